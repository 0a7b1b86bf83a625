"""Reports: SQL aggregations shared by the CLI, the JSON API, the dashboard and the CSV export.

All counting happens in the database (GROUP BY); the same filter object drives every report.
"""

from mailflow.reports.figures import Figures, figures, total_figures
from mailflow.reports.filters import (
    GROUPINGS,
    ReportError,
    ReportFilter,
    ReportInputError,
    build_filter,
    parse_period,
    survey_types,
)
from mailflow.reports.tickets import RatedTicket, iter_rated_tickets, rated_tickets
from mailflow.reports.trends import TrendPoint, trends, with_gaps

__all__ = [
    "GROUPINGS",
    "Figures",
    "RatedTicket",
    "ReportError",
    "ReportFilter",
    "ReportInputError",
    "TrendPoint",
    "build_filter",
    "figures",
    "iter_rated_tickets",
    "parse_period",
    "rated_tickets",
    "survey_types",
    "total_figures",
    "trends",
    "with_gaps",
]
