from django.conf import settings


def offline(request):
    """How long a phone may keep offline data without a sync (read by offline.js)."""
    return {"offline_max_age_days": settings.OFFLINE_MAX_AGE_DAYS}
