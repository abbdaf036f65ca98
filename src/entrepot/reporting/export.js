// Every chart's mode bar exports it: the camera button as PNG (plotly's own), this one as SVG.
// Both are drawn in the browser by plotly.js, so they work offline. Load after plotly.js.
Plotly.setPlotConfig({
  modeBarButtonsToAdd: [{
    name: "toSVG",
    title: "Download plot as an SVG",
    icon: Plotly.Icons.disk,
    click: (gd) => Plotly.downloadImage(gd, {format: "svg", filename: gd.id || "chart"}),
  }],
});
