"""Server-rendered HTML: one Jinja environment, autoescaping everything.

Templates hold no logic beyond loops and conditionals; what they show is prepared here or
in the route. The only HTML that is not escaped is the editors' paragraph after
``markup.render_markdown`` sanitised it (the ``markdown`` filter). Names are paths in the
template tree (``editor/queue.html``), the operator's ``templates_dir`` looked in first.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse

from watcher import __version__
from watcher.markup import render_markdown
from watcher.template_dirs import search_path


def utc(moment: datetime | None, with_seconds: bool = False) -> str:
    if moment is None:
        return "-"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if with_seconds else "%Y-%m-%d %H:%M UTC")


def markdown(text: str | None) -> Markup:
    return Markup(render_markdown(text or ""))  # noqa: S704 (sanitised by nh3 in render_markdown)


def make_templates(templates_dir: Path | None = None) -> Jinja2Templates:
    environment = Environment(
        loader=FileSystemLoader(search_path(templates_dir)),
        autoescape=select_autoescape(["html", "xml"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["utc"] = utc
    environment.filters["markdown"] = markdown
    environment.globals["version"] = __version__
    return Jinja2Templates(env=environment)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A page, with the signed-in session (if any) and its CSRF token in the context."""
    session = getattr(request.state, "session", None)
    base: dict[str, Any] = {
        "session": session,
        "csrf_token": session.csrf_token if session else "",
        "is_admin": bool(session and session.editor.is_admin),
        "errors": {},
    }
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)
