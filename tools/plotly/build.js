// Bundle entry.js as plotly.js's own build does (esbuild-config.js in the package): one IIFE that sets
// window.Plotly, stream → stream-browserify, and CSS (maplibre-gl.css) injected by the script itself.
'use strict';

const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const inlineCss = {
    name: 'inline-css',
    setup(build) {
        build.onLoad({ filter: /\.css$/ }, (args) => {
            const css = fs.readFileSync(args.path, 'utf8');
            return {
                loader: 'js',
                contents: `if (typeof document !== 'undefined') {
    var style = document.createElement('style');
    style.textContent = ${JSON.stringify(css)};
    document.head.appendChild(style);
}`,
            };
        });
    },
};

const packageJson = require('plotly.js/package.json');

esbuild.build({
    entryPoints: [path.join(__dirname, 'entry.js')],
    outfile: path.join(__dirname, 'dist', 'plotly-cityops.min.js'),
    bundle: true,
    minify: true,
    format: 'iife',
    globalName: 'Plotly',
    target: 'es2016',
    alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': 'false' },
    // dashboard/app.py reads the version here: it serves the bundle only when plotly.py's is the same.
    banner: { js: `/* plotly.js v${packageJson.version} (MIT), cityops bundle of entry.js */` },
    legalComments: 'none',
    plugins: [inlineCss],
    logLevel: 'warning',
}).catch(() => process.exit(1));
