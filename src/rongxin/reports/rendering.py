"""Report renderings: a standalone print-friendly HTML document, and PDF made from the same HTML.

Both use the web's one Jinja environment (``t()``, ``loc()``, ``yuan``/``wanyuan``/``cn_date``)
and ``templates/reports/report.html``, whose styles are inline (the document travels alone:
saved, mailed, printed) with a CJK font stack. The PDF is drawn by WeasyPrint, which needs Pango
and a CJK font on the system (Debian: ``libpango-1.0-0 libpangoft2-1.0-0
libharfbuzz-subset0 fonts-noto-cjk``; see .ci/run).
"""

from __future__ import annotations

from typing import Final

from rongxin.errors import ServiceUnavailable
from rongxin.reports.schemas import CreditReport, ReportFormat
from rongxin.web import i18n
from rongxin.web.rendering import environment

MEDIA_TYPES: Final[dict[ReportFormat, str]] = {
    ReportFormat.json: "application/json",
    ReportFormat.html: "text/html; charset=utf-8",
    ReportFormat.pdf: "application/pdf",
}
#: the standalone document has inline styles and no scripts
DOCUMENT_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _locale(locale: str) -> str:
    return i18n.match_locale(locale) or i18n.DEFAULT_LOCALE


def render_html(report: CreditReport, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """The report as one self-contained HTML document."""
    template = environment().get_template("reports/report.html")
    return template.render(report=report, locale=_locale(locale))


def render_pdf(report: CreditReport, locale: str = i18n.DEFAULT_LOCALE) -> bytes:
    """The report as a PDF (A4), drawn from :func:`render_html`."""
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]  # slow to import: only here
    except OSError as exc:  # Pango/HarfBuzz missing: WeasyPrint loads them when imported
        raise ServiceUnavailable(
            "PDF reports need the Pango and HarfBuzz libraries and a CJK font: run "
            "`scripts/system-deps.sh runtime` as root (Debian), then restart. "
            f"({exc.__class__.__name__}: {str(exc).splitlines()[0][:200]})"
        ) from exc

    pdf: bytes = HTML(string=render_html(report, locale)).write_pdf()
    return pdf


def filename(report: CreditReport, format: ReportFormat) -> str:
    """``credit-report-<uscc>-<yyyymmdd>.<ext>`` (ASCII: safe in every Content-Disposition)."""
    day = report.generated_at.strftime("%Y%m%d")
    return f"credit-report-{report.subject.uscc}-{day}.{format.value}"
