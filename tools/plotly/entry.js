// plotly.js with only the trace types the dashboard draws (bar, scatter, scattermap, choroplethmap,
// densitymap): about a fifth of Dash's full plotly.min.js. A new trace type in dashboard/ goes here too.
'use strict';

var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/scatter'),
    require('plotly.js/lib/scattermap'),
    require('plotly.js/lib/choroplethmap'),
    require('plotly.js/lib/densitymap'),
]);

module.exports = Plotly;
