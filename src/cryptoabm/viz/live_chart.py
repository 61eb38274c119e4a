"""A Vega-Lite chart whose data changes without rebuilding it: the page's live charts.

Solara's ``FigureAltair`` sends a whole new specification on every change, and the browser
re-embeds the chart from scratch (and, to render it, it switches Altair's renderer, a setting
of the whole process that concurrent sessions trip over). :class:`LiveChart` is a small widget
with two parts: ``spec``, a Vega-Lite specification whose data is the named source
``rows`` (built once per chart and run horizon), and ``values``, the rows. When only the rows
change, the browser hands them to the chart's Vega view (``view.data("rows", ...)``) and Vega
updates the marks and scales in place; the specification is embedded again only when it
changes (a new horizon, another view of the comparison).

Vega is loaded from Solara's asset folder, as Solara's own chart widget loads it, so the chart
works offline (:mod:`cryptoabm.viz.offline`).
"""

from __future__ import annotations

import ipyvuetify as v
import traitlets

DATA_NAME = "rows"

TEMPLATE = """
<template>
  <div><div ref="plotElement"></div></div>
</template>
<script>
module.exports = {
  created() {
    this.vegaLoaded = this.loadVega();
    this.embedDebounced = _.debounce(async () => { await this.vegaLoaded; this.embed(); }, 30);
  },
  mounted() { this.embedDebounced(); },
  destroyed() {
    if (this.observer) { this.observer.disconnect(); }
    if (this.view) { this.view.finalize(); }
  },
  watch: {
    spec() { this.embedDebounced(); },
    values() { this.update(); },
  },
  methods: {
    embed() {
      require(['vega-embed'], (vegaEmbed) => {
        (async () => {
          const spec = JSON.parse(JSON.stringify(this.spec));
          if (spec.width === "container") {
            this.$refs.plotElement.classList.add("width-container");
          }
          const result = await vegaEmbed(this.$refs.plotElement, spec, {actions: false});
          if (this.view) { this.view.finalize(); }
          this.view = result.view;
          if (spec.width === "container" && !this.observer) {
            this.observer = new ResizeObserver(() => { if (this.view) { this.view.resize().runAsync(); } });
            this.observer.observe(this.$refs.plotElement);
          }
          this.update();
        })();
      });
    },
    update() {
      if (!this.view) { return; }
      this.view.data('""" + DATA_NAME + """', JSON.parse(JSON.stringify(this.values))).runAsync();
    },
    async loadVega() {
      await this.loadRequire();
      require.config({
        map: {'*': {
          'vega': `${this.getCdn()}/vega@5/build/vega.min.js`,
          'vega-lite': `${this.getCdn()}/vega-lite@5/build/vega-lite.min.js`,
          'vega-embed': `${this.getCdn()}/vega-embed@6/build/vega-embed.min.js`,
        }}
      });
      await new Promise((resolve, reject) => { require(['vega', 'vega-lite', 'vega-embed'], () => resolve(), reject); });
    },
    loadRequire() {
      if (window.requirejs) { return Promise.resolve(); }
      return new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = `${this.getCdn()}/requirejs@2.3.6/require.js`;
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    },
    getCdn() {
      if (window.solara) { return window.solara.cdn; }
      let base = document.body.dataset.baseUrl || document.baseURI;
      if (!base.endsWith('/')) { base += '/'; }
      return `${base}_solara/cdn`;
    },
  },
}
</script>
<style id="cryptoabm-live-chart-width">
.width-container.vega-embed { width: 100%; }
</style>
"""


class LiveChart(v.VuetifyTemplate):
    """A Vega-Lite chart: ``spec`` (data from the named source ``rows``) and its ``values``."""

    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    spec = traitlets.Dict().tag(sync=True)
    values = traitlets.List().tag(sync=True)
