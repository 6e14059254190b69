from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Seconds as a short human duration: "45 min", "3 h 20 min", "2 d 4 h"; "–" for none."""
    if seconds is None or seconds == "":
        return "–"
    minutes = int(round(float(seconds) / 60))
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return (
            _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
            if minutes
            else _("%(h)d h") % {"h": hours}
        )
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours} if hours else _("%(d)d d") % {"d": days}


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)
