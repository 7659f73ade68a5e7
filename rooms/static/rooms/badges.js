// The tab's badges: the unread count before the page's title ("(3) Rooms"),
// and a dot on the favicon while something is unread or mentions you (drawn
// on a canvas into a data: URL, which the Content-Security-Policy's img-src
// allows). Both clear when the count does.

const COLOURS = { unread: "#4f46e5", mention: "#dc2626" };

/** A function show({unread, mentioned}) that updates the title and the icon. */
export function tabBadge(doc = document) {
  const base = doc.title;
  const link = doc.querySelector('link[rel="icon"]');
  const plain = link?.getAttribute("href") ?? "data:,";
  const plainType = link?.getAttribute("type") ?? "";
  const icons = {};
  let shown = null;
  return function show({ unread = 0, mentioned = false } = {}) {
    doc.title = unread > 0 ? `(${unread > 99 ? "99+" : unread}) ${base}` : base;
    const state = mentioned ? "mention" : unread > 0 ? "unread" : "none";
    if (state === shown) return;
    shown = state;
    doc.documentElement.dataset.badge = state;
    if (!link) return;
    const icon = state === "none" ? null : (icons[state] ??= dotIcon(doc, COLOURS[state]));
    link.setAttribute("type", icon ? "image/png" : plainType);
    link.setAttribute("href", icon ?? plain);
  };
}

/** A 32 px icon: the app's "#" mark with a coloured dot in its corner. */
function dotIcon(doc, colour) {
  try {
    const canvas = doc.createElement("canvas");
    canvas.width = canvas.height = 32;
    const context = canvas.getContext("2d");
    context.fillStyle = "#4f46e5";
    context.beginPath();
    context.roundRect(0, 0, 32, 32, 8);
    context.fill();
    context.fillStyle = "#ffffff";
    context.font = "bold 22px sans-serif";
    context.textAlign = "center";
    context.textBaseline = "middle";
    context.fillText("#", 14, 17);
    context.fillStyle = colour;
    context.strokeStyle = "#ffffff";
    context.lineWidth = 3;
    context.beginPath();
    context.arc(24, 8, 7, 0, Math.PI * 2);
    context.fill();
    context.stroke();
    return canvas.toDataURL("image/png");
  } catch {
    return null; // no canvas: the title still carries the count
  }
}
