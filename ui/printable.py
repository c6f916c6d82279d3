"""Meeting notices and minutes as an HTML page that prints well (A4, CJK fonts); every user text escaped."""

from datetime import date
from html import escape

from ui.i18n import enum_label, format_date, format_datetime, t

_STYLE = """
@page { size: A4; margin: 20mm; }
body { font-family: "Noto Serif CJK SC", "Songti SC", "SimSun", serif; font-size: 12pt; line-height: 1.7; }
h1 { font-size: 18pt; text-align: center; margin-bottom: 4mm; }
h2 { font-size: 13pt; margin-top: 8mm; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; }
td, th { border: 1px solid #999; padding: 2mm 3mm; text-align: left; }
.meta { text-align: center; color: #444; }
pre { white-space: pre-wrap; font-family: inherit; }
"""


def _page(title: str, body: str) -> bytes:
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    ).encode()


def _head(meeting) -> str:  # type: ignore[no-untyped-def]
    where = meeting.place or ""
    if meeting.online_link:
        where = f"{where} {t('field.online_link')}：{meeting.online_link}".strip()
    return (
        f"<h1>{escape(meeting.title)}</h1>"
        f'<p class="meta">{escape(enum_label("meeting_kind", meeting.kind))} · '
        f"{escape(format_datetime(meeting.starts_at))} · {escape(where)}</p>"
    )


def _agenda(meeting) -> str:  # type: ignore[no-untyped-def]
    items = (
        "".join(f"<li>{escape(item)}</li>" for item in meeting.agenda) or f"<li>{escape(t('council.no_agenda'))}</li>"
    )
    return f"<h2>{escape(t('field.agenda'))}</h2><ol>{items}</ol>"


def notice_html(meeting) -> bytes:  # type: ignore[no-untyped-def]
    """The meeting notice (会议通知): what, when, where, the agenda."""
    notice_on = format_date(meeting.notice_on) if meeting.notice_on else ""
    body = (
        _head(meeting)
        + f"<p>{escape(t('council.notice_intro'))}</p>"
        + _agenda(meeting)
        + f"<p style='text-align:right'>{escape(t('council.notice_signature'))}<br>{escape(notice_on)}</p>"
    )
    return _page(meeting.title, body)


def minutes_html(meeting, units: dict[int, str]) -> bytes:  # type: ignore[no-untyped-def]
    """The minutes (会议纪要): attendance, quorum, the minutes text, each decision with its votes and result."""
    rows = "".join(
        f"<tr><td>{escape(a.unit)}</td><td>{escape(enum_label('attendance', a.status) if a.status else '—')}</td>"
        f"<td>{escape(a.proxy)}</td></tr>"
        for a in meeting.attendance
    )
    quorum = t("council.quorum_yes" if meeting.quorum else "council.quorum_no", present=meeting.present,
               seated=meeting.seated)  # fmt: skip
    decisions = ""
    for d in meeting.decisions:
        votes = "".join(
            f"<tr><td>{escape(units.get(u, str(u)))}</td><td>{escape(enum_label('vote', v))}</td></tr>"
            for u, v in d.votes.items()
        )
        result = t("council.passed" if d.passed else "council.not_passed")
        decisions += (
            f"<h3>{escape(d.title)}</h3><pre>{escape(d.text)}</pre>"
            f"<p>{escape(t('council.tally', agree=d.agree, oppose=d.oppose, abstain=d.abstain))} — {escape(result)}</p>"
            f"<table>{votes}</table>"
        )
    body = (
        _head(meeting)
        + _agenda(meeting)
        + f"<h2>{escape(t('field.attendance'))}</h2><p>{escape(quorum)}</p>"
        + f"<table><tr><th>{escape(t('council.unit'))}</th><th>{escape(t('field.attendance'))}</th>"
        + f"<th>{escape(t('field.proxy'))}</th></tr>{rows}</table>"
        + f"<h2>{escape(t('field.minutes'))}</h2><pre>{escape(meeting.minutes or '—')}</pre>"
        + f"<h2>{escape(t('council.decisions'))}</h2>{decisions or escape(t('council.no_decisions'))}"
    )
    return _page(meeting.title, body)


def overview_html(filters: list[tuple[str, str]], kpis: list[tuple[str, str, str]], *, today: date) -> bytes:
    """The overview's one-page summary for a council meeting: the filters and every KPI with its change."""
    conditions = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in filters)
    figures = "".join(
        f"<tr><td>{escape(label)}</td><td>{escape(value)}</td><td>{escape(delta)}</td></tr>"
        for label, value, delta in kpis
    )
    body = (
        f"<h1>{escape(t('overview.print_title'))}</h1>"
        f'<p class="meta">{escape(t("overview.print_date", date=format_date(today)))}</p>'
        f"<h2>{escape(t('overview.print_filters'))}</h2><table>{conditions}</table>"
        f"<h2>{escape(t('overview.print_figures'))}</h2><table><tr><th>{escape(t('overview.print_measure'))}</th>"
        f"<th>{escape(t('overview.print_value'))}</th><th>{escape(t('overview.print_change'))}</th></tr>{figures}</table>"
    )
    return _page(t("overview.print_title"), body)
