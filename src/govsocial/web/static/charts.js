// The public pages' charts (web/charts.py): each is a Vega-Lite spec in a JSON data block,
//   <div id="chart-x"></div>
//   <script type="application/json" data-chart="chart-x">{...}</script>
// drawn here with vega-embed as SVG. The pages' CSP forbids eval, so Vega's expressions run
// in its interpreter (vendor/vega-interpreter.min.js), never compiled with Function().
// Numbers and dates follow the page's language (<html lang>). Every chart has a table beside
// it: when a chart cannot be drawn, the table still says everything.
(function () {
  "use strict";

  var LOCALES = {
    id: {
      number: { decimal: ",", thousands: ".", grouping: [3], currency: ["Rp", ""] },
      time: {
        dateTime: "%A, %e %B %Y pukul %H.%M.%S",
        date: "%d/%m/%Y",
        time: "%H.%M.%S",
        periods: ["", ""],
        days: ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"],
        shortDays: ["Min", "Sen", "Sel", "Rab", "Kam", "Jum", "Sab"],
        months: ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
                 "Agustus", "September", "Oktober", "November", "Desember"],
        shortMonths: ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt",
                      "Nov", "Des"]
      }
    },
    en: {
      number: { decimal: ".", thousands: ",", grouping: [3], currency: ["£", ""] },
      time: {
        dateTime: "%a %e %b %X %Y",
        date: "%d/%m/%Y",
        time: "%H:%M:%S",
        periods: ["AM", "PM"],
        days: ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
        shortDays: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
        months: ["January", "February", "March", "April", "May", "June", "July", "August",
                 "September", "October", "November", "December"],
        shortMonths: ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                      "Nov", "Dec"]
      }
    }
  };

  function options() {
    var locale = LOCALES[document.documentElement.lang] || LOCALES.en;
    return {
      renderer: "svg",
      actions: false,
      ast: true,
      expr: window.vegaInterpreter.expressionInterpreter,
      formatLocale: locale.number,
      timeFormatLocale: locale.time
    };
  }

  // Vega-Lite fits "container" widths only for single views: a stack of views (vconcat) gets
  // the container's width less room for the axes and the legend.
  function fit(spec, target) {
    if (spec.vconcat) {
      var width = Math.max(240, target.clientWidth - 180);
      spec.vconcat.forEach(function (view) {
        if (view.width === "container") { view.width = width; }
      });
    }
    return spec;
  }

  function draw(root) {
    if (!window.vegaEmbed || !window.vegaInterpreter) { return; }
    var blocks = root.querySelectorAll('script[type="application/json"][data-chart]');
    Array.prototype.forEach.call(blocks, function (block) {
      var target = document.getElementById(block.getAttribute("data-chart"));
      if (!target || target.getAttribute("data-drawn")) { return; }
      target.setAttribute("data-drawn", "drawing");
      window.vegaEmbed(target, fit(JSON.parse(block.textContent), target), options()).then(function () {
        target.setAttribute("data-drawn", "yes");
      }).catch(function (error) {
        target.setAttribute("data-drawn", "failed");
        console.error("chart " + target.id + " could not be drawn: " + error);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  } else {
    draw(document);
  }
  // A leaderboard swapped in by htmx brings its own chart.
  document.addEventListener("htmx:afterSettle", function (event) {
    draw(event.detail.elt && event.detail.elt.querySelectorAll ? event.detail.elt : document);
  });
})();
