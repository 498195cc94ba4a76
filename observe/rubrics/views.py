from flask import Blueprint

bp = Blueprint("rubrics", __name__)


@bp.get("/rubrics")
def index():
    return "rubrics"


@bp.get("/rubrics/<int:version_id>")
def show(version_id: int):
    return "rubric"
