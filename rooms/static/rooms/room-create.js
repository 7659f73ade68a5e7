// The create-a-room form of the room list (rooms/web/forms.py,
// RoomCreateForm): the address follows the name as it is typed, made as the
// server makes it (rooms/selectors/addresses.py), until it is edited by hand;
// emptied, it follows the name again. Without this script the server makes
// the address from the name when the field is left empty.

const TRIM = /^[-_]+|[-_]+$/g;

/** The address made from a room's name: its letters and digits, lowercased,
 * accents dropped, words joined by hyphens, at most `maxLength` long; never
 * one starting with the prefix kept for direct conversations. */
export function addressFrom(name, { maxLength = 64, reserved = "" } = {}) {
  let address = name
    .normalize("NFKD")
    .replace(/[^\x00-\x7f]/g, "")
    .toLowerCase()
    .replace(/[^\w\s-]/g, "")
    .replace(/[-\s]+/g, "-")
    .replace(TRIM, "")
    .slice(0, maxLength)
    .replace(TRIM, "");
  if (reserved && address.startsWith(reserved)) {
    address = `room-${address}`.slice(0, maxLength).replace(TRIM, "");
  }
  return address;
}

function follow(name, address) {
  const options = {
    maxLength: address.maxLength > 0 ? address.maxLength : 64,
    reserved: address.dataset.reservedPrefix ?? "",
  };
  const made = () => addressFrom(name.value, options);
  let following = address.value === "" || address.value === made();
  name.addEventListener("input", () => {
    if (following) address.value = made();
  });
  address.addEventListener("input", () => {
    following = address.value === "" || address.value === made();
  });
}

const form = document.getElementById("create-room");
if (form) follow(form.elements.namedItem("title"), form.elements.namedItem("slug"));
