// Starts Swagger UI on the portal's OpenAPI document (a file, not an inline script: the CSP forbids those).
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: root.dataset.openapi, dom_id: "#swagger-ui", deepLinking: true });
});
