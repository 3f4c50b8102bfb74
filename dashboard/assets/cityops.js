// Small browser-side helpers; loaded from /assets like everything else (no CDN).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    cityops: {
        // Keep the language link pointing back at the page the user is on.
        langHref: function (pathname, href) {
            var base = (href || "/lang/en").split("?")[0];
            return base + "?next=" + encodeURIComponent(pathname || "/");
        },
        // Fit the big-screen map to the boundaries once, for the screen it is actually on
        // (1920×1080 or 3840×2160): MapLibre in plotly has no "fit bounds", and the server
        // cannot know the screen. Answered as a Patch of the figure in the browser (nothing
        // is uploaded), so the server's later point patches keep this view.
        fitMap: function (fit, graphId) {
            var dc = window.dash_clientside;
            if (!fit || !fit.bounds) { return dc.no_update; }
            var bounds = fit.bounds;
            return new Promise(function (resolve) {
                var tries = 0;
                var attempt = function () {
                    var el = document.getElementById(graphId);
                    if (!el || el.clientWidth === 0) {
                        if (tries++ < 100) { setTimeout(attempt, 50); } else { resolve(dc.no_update); }
                        return;
                    }
                    var w = el.clientWidth, h = el.clientHeight;
                    var lonSpan = Math.max(bounds[2] - bounds[0], 1e-3);
                    var latMid = (bounds[1] + bounds[3]) / 2 * Math.PI / 180;
                    var latSpan = Math.max(bounds[3] - bounds[1], 1e-3) / Math.cos(latMid);
                    var zoom = Math.min(Math.log2(w / 512 * 360 / lonSpan), Math.log2(h / 512 * 360 / latSpan));
                    var scale = w > 2500 ? 2 : 1;  // a 4K wall is read from as far away as a 1080p one
                    var patch = new dc.Patch()
                        .assign(["layout", "map", "center"],
                                {lon: (bounds[0] + bounds[2]) / 2, lat: (bounds[1] + bounds[3]) / 2})
                        .assign(["layout", "map", "zoom"], Math.round((zoom - 0.1) * 100) / 100);
                    if (scale !== 1) {
                        patch.assign(["data", fit.label_trace, "textfont", "size"], 15 * scale);
                        fit.point_traces.forEach(function (index, i) {
                            patch.assign(["data", index, "marker", "size"], fit.point_sizes[i] * scale);
                        });
                        if (fit.heat_trace !== undefined) {
                            patch.assign(["data", fit.heat_trace, "radius"], 18 * scale);
                        }
                        patch.assign(["layout", "font", "size"], 12 * scale)
                            .assign(["layout", "hoverlabel", "font", "size"], 14 * scale);
                        (fit.fill_traces || []).forEach(function (index) {
                            patch.assign(["data", index, "colorbar", "thickness"], 12 * scale)
                                .assign(["data", index, "colorbar", "tickfont", "size"], 12 * scale)
                                .assign(["data", index, "colorbar", "title", "font", "size"], 13 * scale);
                        });
                    }
                    resolve(patch.build());
                };
                attempt();
            });
        },
        // How much larger charts must be drawn on this screen (2 on a 4K wall at 100 % scaling).
        screenScale: function () {
            return window.innerWidth > 2500 ? 2 : 1;
        },
        // Big-screen layers on and off: a Patch of the traces' ``visible`` flags, in the browser.
        toggleLayers: function (values, traces) {
            var dc = window.dash_clientside;
            if (!traces) { return dc.no_update; }
            var on = values || [];
            var patch = new dc.Patch();
            Object.keys(traces).forEach(function (name) {
                traces[name].forEach(function (index) {
                    patch.assign(["data", index, "visible"], on.indexOf(name) >= 0);
                });
            });
            return patch.build();
        },
        // The big screen's link to the server: hidden while refreshes land, shown once none has for
        // two refresh intervals (the server or the network away; Dash keeps asking, so the screen
        // catches up by itself when they are back). ``since`` is when the marker store last changed,
        // which every answered refresh does.
        linkLost: function (_n, since, interval) {
            var start = window.cityopsLoadedAt || (window.cityopsLoadedAt = Date.now());
            var last = since && since > 0 ? since : start;
            return Date.now() - last <= (interval || 3000) * 2 + 1000;
        },
        // Scroll a form that just appeared into view (no output: the page is the effect).
        scrollIntoView: function (hidden, id) {
            if (!hidden) {
                setTimeout(function () {
                    var el = document.getElementById(id);
                    if (el) { el.scrollIntoView({behavior: "smooth", block: "start"}); }
                }, 30);
            }
        }
    }
});

// Dash's date picker takes month and weekday names from window.dateFns.locale, which date-fns's
// locale scripts fill (the zh-CN one is served before this file). Dash picks among them by the
// browser's language; the user chose the page's (<html lang>): Chinese pages get zh-CN, English
// ones nothing, which is date-fns's built-in English.
(function () {
    var loaded = (window.dateFns && window.dateFns.locale) || {};
    window.dateFns = Object.assign({}, window.dateFns);
    Object.defineProperty(window.dateFns, "locale", {
        configurable: true,
        get: function () {
            var chinese = document.documentElement.lang.indexOf("zh") === 0;
            return chinese && loaded.zhCN ? {zhCN: loaded.zhCN} : {};
        }
    });
})();
