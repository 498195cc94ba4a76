"""observe: equity-focused classroom walkthroughs."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from observe import paths
from observe.config import build_config, create_private_sqlite_file
from observe.core.clock import zone_named
from observe.core.compression import register_compression
from observe.core.database import configure_engine
from observe.core.validation import IdConverter, JSONProvider, register_screening
from observe.extensions import csrf, db, login_manager, migrate

# Features that move their rows when a school closes into another (observe/core/hooks.py).
MERGING = ("accounts", "observations", "calibration", "reports")

# What carries no personal data and keeps its own caching: static files, the tablet app's page,
# worker and manifest (the same for everyone, cached for offline use), the API's description.
CACHEABLE_ENDPOINTS = {
    "static",
    "home.favicon",
    "tablet.app",
    "tablet.service_worker",
    "tablet.manifest",
    "api.openapi",
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(paths.TEMPLATES),
        static_folder=str(paths.STATIC),
        static_url_path="/static",
    )
    app.config.update(build_config(app.instance_path, config))
    app.json = JSONProvider(app)
    # Path ids outside an id column's range are unknown (404), never a database error.
    app.url_map.converters["int"] = IdConverter
    zone_named(app.config["OBSERVE_TIMEZONE"])  # a misspelt zone stops the start, saying so
    if hops := app.config["OBSERVE_PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    create_private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(paths.MIGRATIONS), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)

    # Every model module is imported so the metadata (and Alembic) sees every table.
    from observe import models  # noqa: F401

    # Every module that listens to a hook (observe/core/hooks.py): no reaction may be missing
    # because a module happened not to be imported yet.
    listening_modules = ("observe.core.changes", "observe.reports.rollups", "observe.sync.devices")
    merges = tuple(f"observe.{feature}.merges" for feature in MERGING)
    for listening in (*listening_modules, "observe.photos.operations", *merges):
        import_module(listening)
    from observe.accounts import auth, oidc
    from observe.accounts.views import bp as accounts_bp
    from observe.accounts.views import people as people_bp
    from observe.api import bp as api_bp
    from observe.audit.views import bp as audit_bp
    from observe.calibration.views import bp as calibration_bp
    from observe.commands import register_commands
    from observe.core import i18n
    from observe.core.formatting import register_filters
    from observe.errors import register_error_handlers
    from observe.home.views import bp as home_bp
    from observe.observations.views import bp as walkthroughs_bp
    from observe.observations.views import teacher_bp as teacher_feedback_bp
    from observe.photos.views import bp as photos_bp
    from observe.reports.views import bp as reports_bp
    from observe.roster.views import bp as roster_bp
    from observe.rubrics.views import bp as rubrics_bp
    from observe.tablet.views import bp as tablet_bp

    # Every feature's JSON routes join the API blueprint before it is registered.
    features = ("accounts", "calibration", "observations", "photos", "reports", "roster", "rubrics")
    for feature in features:
        import_module(f"observe.{feature}.api")
    import_module("observe.sync.api")
    oidc.init_app(app)  # a single sign-on setting that cannot work stops the start here
    auth.init_app(app)
    register_error_handlers(app)
    register_screening(app)
    register_filters(app)
    i18n.init_app(app)
    register_compression(app)
    blueprints = [home_bp, accounts_bp, rubrics_bp, roster_bp, calibration_bp, walkthroughs_bp]
    blueprints += [reports_bp, api_bp, tablet_bp, audit_bp, people_bp, photos_bp]
    blueprints += [teacher_feedback_bp]
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    register_commands(app)

    @app.after_request
    def security_headers(response: Response) -> Response:
        # Nothing is loaded from anywhere but this server: the tablet app must work offline.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            # Cookies that only travel over HTTPS mean the site is served over HTTPS: tell the
            # browser never to try plain HTTP (where the first request could be intercepted).
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if request.endpoint not in CACHEABLE_ENDPOINTS:
            # Pages and API answers carry personal data: no browser, proxy or shared tablet
            # keeps a copy (the back button after sign-out shows nothing).
            response.headers["Cache-Control"] = "private, no-store"
        return response

    @app.context_processor
    def site_context() -> dict[str, Any]:
        return {"district_name": app.config["OBSERVE_DISTRICT_NAME"]}

    return app
