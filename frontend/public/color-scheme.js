// Sets the colour scheme before the first paint (no light flash for a dark choice): the same
// key and values as Mantine's localStorageColorSchemeManager (frontend/src/theme.ts). A file,
// not an inline script: the Content-Security-Policy allows no inline script.
(function () {
  var choice = "auto";
  try {
    choice = window.localStorage.getItem("flowdeck-color-scheme") || "auto";
  } catch (e) {}
  if (choice !== "light" && choice !== "dark") {
    choice = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  document.documentElement.setAttribute("data-mantine-color-scheme", choice);
})();
