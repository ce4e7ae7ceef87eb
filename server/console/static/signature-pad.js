/* A signature pad (R-REP-7): draw with a finger, a stylus or the mouse on the canvas; the drawing goes into the
   form's hidden field as a PNG data URL when the pen lifts. "Clear" empties both. No inline script: the page's
   content policy allows only the console's own files. */
(function () {
  "use strict";
  function attach(pad) {
    var canvas = pad.querySelector("canvas");
    var field = pad.querySelector("input[type=hidden]");
    var clear = pad.querySelector("button[data-clear]");
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var last = null;
    function reset() {
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#123";
      field.value = "";
      pad.classList.remove("signed");
    }
    function point(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - box.left) * (canvas.width / box.width),
        y: (event.clientY - box.top) * (canvas.height / box.height),
      };
    }
    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = point(event);
      ctx.beginPath();
      ctx.arc(last.x, last.y, 1, 0, 2 * Math.PI);
      ctx.fillStyle = "#123";
      ctx.fill();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var next = point(event);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(next.x, next.y);
      ctx.stroke();
      last = next;
    });
    function lift() {
      if (!drawing) return;
      drawing = false;
      field.value = canvas.toDataURL("image/png");
      pad.classList.add("signed");
    }
    canvas.addEventListener("pointerup", lift);
    canvas.addEventListener("pointercancel", lift);
    if (clear) clear.addEventListener("click", function (event) { event.preventDefault(); reset(); });
    reset();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-signature-pad]").forEach(attach);
  });
})();
