/* A worker's photo for the pass (R-REN-6): the picture chosen (or taken with a tablet's camera) is scaled down to
   at most 320 px and put into the form's hidden field as a JPEG data URL, shown beside the field. */
(function () {
  "use strict";
  function attach(box) {
    var file = box.querySelector("input[type=file]");
    var field = box.querySelector("input[type=hidden]");
    var preview = box.querySelector("img");
    file.addEventListener("change", function () {
      if (!file.files.length) { field.value = ""; return; }
      var reader = new FileReader();
      reader.onload = function () {
        var image = new Image();
        image.onload = function () {
          var scale = Math.min(1, 320 / Math.max(image.width, image.height));
          var canvas = document.createElement("canvas");
          canvas.width = Math.round(image.width * scale);
          canvas.height = Math.round(image.height * scale);
          canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
          field.value = canvas.toDataURL("image/jpeg", 0.85);
          if (preview) { preview.src = field.value; preview.hidden = false; }
        };
        image.src = reader.result;
      };
      reader.readAsDataURL(file.files[0]);
    });
  }
  document.querySelectorAll("[data-photo-field]").forEach(attach);
})();
