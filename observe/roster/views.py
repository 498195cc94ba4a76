from flask import Blueprint

bp = Blueprint("roster", __name__)


@bp.get("/schools")
def schools():
    return "schools"
