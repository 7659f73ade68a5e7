// The room's manage page (rooms/templates/rooms/room_manage.html) works
// without this script; with it, the invite field suggests usernames and a
// removal asks first (it takes the room from that person's open pages at once).

import { suggestUsers } from "./direct.js";
import { gettext, interpolate } from "./i18n.js";

suggestUsers(document.getElementById("id_user"), document.getElementById("invite-suggestions"), null);

for (const form of document.querySelectorAll("form.member-remove")) {
  form.addEventListener("submit", (event) => {
    const name = form.querySelector("input[name=user]").value;
    if (!window.confirm(interpolate(gettext("Remove %(name)s from this room?"), { name }))) event.preventDefault();
  });
}
