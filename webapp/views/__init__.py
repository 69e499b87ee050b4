"""One thin blueprint per area of the app; init_app registers them all, with the error pages."""

from ..extensions import csrf


def init_app(app):
    """Register every area's blueprint; an area whose module sets CSRF_EXEMPT is exempt from CSRF."""
    from . import (
        absences,
        admin_inbox,
        admin_integrations,
        admin_people,
        admin_rules,
        api,
        auth,
        errors,
        notifications,
        ops,
        schedules,
        setup,
        tasks,
        team,
        webhooks,
    )

    areas = (
        auth,
        tasks,
        api,
        webhooks,
        admin_integrations,
        schedules,
        setup,
        admin_rules,
        admin_inbox,
        admin_people,
        absences,
        notifications,
        ops,
        team,
    )
    for area in areas:
        app.register_blueprint(area.bp)
        if getattr(area, "CSRF_EXEMPT", False):
            csrf.exempt(area.bp)
    errors.init_app(app)
