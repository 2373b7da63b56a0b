"""The `vpnconn` command and the verbs that are not one layer's own: check, publish (with the breaking-change
check and the offline page). Commands wire the layers together; nothing below imports from here."""
