"""Page or fragment: one helper decides whether a view answers with the whole page or, for an
htmx request, only the block of the same template that the request replaces."""

from flask import current_app, make_response, redirect, render_template, request


def is_fragment_request():
    """True for an htmx request that swaps part of a page (not a boosted link, not a history restore)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_block(template_name, block_name, **context):
    """Render one block of a template with the app's full template context."""
    app = current_app._get_current_object()
    app.update_template_context(context)
    template = app.jinja_env.get_template(template_name)
    block = template.blocks[block_name]
    return "".join(block(template.new_context(context)))


def page_or_fragment(template_name, block_name, status=200, **context):
    """The whole page, or for an htmx request only `block_name` of the same template.

    The answer varies on HX-Request, so caches never hand a fragment to a page load.
    `status` is the HTTP status: a template variable of that name must be called otherwise.
    """
    if not isinstance(status, int):
        raise TypeError(f"status is the HTTP status, not a template variable: {status!r}")
    if is_fragment_request():
        body = render_block(template_name, block_name, **context)
    else:
        body = render_template(template_name, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def redirect_or_fragment(location, render_fragment):
    """After a POST: htmx gets the fragment to swap in; a plain form gets a 303 to `location`."""
    response = make_response(render_fragment()) if is_fragment_request() else redirect(location, 303)
    response.vary.add("HX-Request")
    return response


def client_redirect(location, status=401):
    """Send an htmx request's browser to another page (HX-Redirect), e.g. to sign in again."""
    response = make_response("", status)
    response.headers["HX-Redirect"] = location
    response.vary.add("HX-Request")
    return response
