"""The HTML report in a real browser (Debian's headless Chromium): phone and desktop.

Headless Chromium will not make a window narrower than 500 px, so the phone is an
iframe 390 px wide (its own viewport: the report's media queries see 390 px). A probe
script, added to the test's copy only (the report has none), measures through the DOM
and writes the figures into the page, which ``--dump-dom`` returns. Chromium's own
network log shows whether the page asked for anything; a control page that does ask
proves the check can fail.
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from cxtext.config import load_settings
from cxtext.report.html import render_report
from cxtext.schema import DISCOVERED_THEMES, FEEDBACK, FOLLOW_UPS, PAIN_POINTS, conform

CHROMIUM = shutil.which("chromium")


@pytest.fixture(autouse=True)
def _needs_chromium() -> None:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")


FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=4000",
]
END = pd.Timestamp("2026-11-20", tz="UTC")
# Would mark the page if it ran; escaped, it is only text.
HOSTILE = (
    "<script>document.body.dataset.pwned='script'</script>"
    "<img src=x onerror=\"document.body.dataset.pwned='img'\"> کارتم هنوز نرسیده و پشتیبانی جواب نمی‌دهد"
)
LONG_FA = "پرداخت‌ها و بازپرداخت‌های انجام‌نشده در درگاه‌های بانکی"


def _pain() -> pd.DataFrame:
    rows = []
    names = [
        ("payments_refunds", "Payments & refunds", LONG_FA, 120, 900.0),
        ("delivery", "Delivery <b>& shipping</b>", "ارسال و تحویل", 300, 400.0),
        ("app_bugs", "App bugs and crashes in the mobile application", "خطای اپ", 120, 400.0),
        ("fees", "Fees", "کارمزد", 80, 0.0),  # nothing at risk: not drawn as a bar
        ("support", "Support", "پشتیبانی", 60, 50.0),
    ]
    for rank, (tid, en, fa, mentions, risk) in enumerate(names, start=1):
        rows.append(
            {
                "run_id": "r1",
                "window_start": END - pd.Timedelta(days=28),
                "window_end": END,
                "segment": "all",
                "theme_id": tid,
                "theme_en": en,
                "theme_fa": fa,
                "mentions": mentions,
                "negative_mentions": mentions // 2,
                "customers": 40,
                "unlinked_mentions": 3,
                "share": 0.1,
                "negative_rate": 0.5,
                "trend": 0.25,
                "spike": rank == 1,
                "nps_impact": -2.5,
                "mean_clv": 1234567.0,
                "churn_uplift": 0.1 if risk else -0.01,
                "churn_uplift_low": 0.0,
                "churn_uplift_high": 0.2,
                "clv_at_risk": risk * 100000,
                "clv_at_risk_low": risk * 50000,
                "clv_at_risk_high": risk * 150000,
                "rank": rank,
                "examples": json.dumps([HOSTILE, "refund never came back after three weeks"]),
                "method": "uplift=joint_logit(l2); clv=crm 40%/bgnbd_gammagamma 60%",
                "currency": "IRR",
            }
        )
    return conform(pd.DataFrame(rows), PAIN_POINTS)


def _feedback() -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            {
                "source": "t",
                "id": [str(i) for i in range(20)],
                "created_at": [END - pd.Timedelta(days=i * 3 + 1) for i in range(20)],
                "topics": json.dumps(["delivery", "payments_refunds"]),
                "aspect_sentiment": json.dumps({"delivery": "negative"}),
                "sentiment": "negative",
            }
        ),
        FEEDBACK,
    )


def _discovered() -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            [
                {
                    "window_end": END,
                    "theme_id": "new_fa_1a2b3c",
                    "language": "fa",
                    "keywords": json.dumps(
                        {"fa": ["استیکینگ", "پاداش رمزارز"], "en": ["<script>x</script>"]},
                        ensure_ascii=False,
                    ),
                    "size": 24,
                    "negative_rate": 0.75,
                    "clv_at_risk": 12000000.0,
                    "clv_at_risk_low": 0.0,
                    "clv_at_risk_high": 24000000.0,
                    "examples": json.dumps([HOSTILE], ensure_ascii=False),
                    "first_seen": END,
                    "is_new": True,
                    "currency": "IRR",
                }
            ]
        ),
        DISCOVERED_THEMES,
    )


def _follow_ups() -> pd.DataFrame:
    return conform(
        pd.DataFrame(
            {
                "row_id": ["a1", "b2", "c3"],
                "window_end": END,
                "team": ["billing", "billing", "logistics"],
                "priority": [1, 2, 1],
                "customer_id": ["C1", "C2", "C3"],
                "theme_id": ["payments_refunds", "payments_refunds", "delivery"],
                "value_at_stake": [5e6, 4e6, 1e6],
                "currency": "IRR",
            }
        ),
        FOLLOW_UPS,
    )


@pytest.fixture(scope="module")
def report_html() -> str:
    return render_report(
        _pain(),
        _feedback(),
        load_settings().report,
        {"run_id": "r1", "read": 10, "kept": 8, "quarantined": 1, "duplicates": 1},
        {"bad_created_at": 1},
        _discovered(),
        _follow_ups(),
    )


PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="r" style="width:WIDTHpx;height:900px;border:0" srcdoc="SRCDOC"></iframe>
<script>
window.addEventListener('load', async () => {
  const doc = document.getElementById('r').contentDocument;
  await doc.fonts.ready;
  let minFont = 1e9, charts = 0;
  for (const svg of doc.querySelectorAll('svg.chart')) {
    const box = svg.getBoundingClientRect();
    if (box.width === 0) continue;  // the layout for the other screen size
    charts += 1;
    const scale = box.width / svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll('text')) {
      minFont = Math.min(minFont, parseFloat(doc.defaultView.getComputedStyle(t).fontSize) * scale);
    }
  }
  const cards = [...doc.querySelectorAll('table.cards thead')].map(
    t => doc.defaultView.getComputedStyle(t).display);
  const out = {
    scrollWidth: doc.documentElement.scrollWidth,
    clientWidth: doc.documentElement.clientWidth,
    minChartFont: minFont, charts: charts, cardsHeader: cards,
    fonts: [...doc.fonts].map(f => f.family + ':' + f.status),
    resources: doc.defaultView.performance.getEntriesByType('resource').map(e => e.name),
    pwned: doc.body.dataset.pwned || document.body.dataset.pwned || null,
  };
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script></body></html>"""


def _chromium(args: list[str], tmp: Path) -> str:
    profile = tempfile.mkdtemp(dir=tmp, prefix="profile-")
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _page_requests(netlog: Path) -> list[str]:
    """URLs the page asked for; the browser's own service requests have no origin."""
    log = json.loads(netlog.read_text(encoding="utf-8"))
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        started = types.get(event["type"]) == "URL_REQUEST_START_JOB" and "url" in params
        if started and params.get("initiator") != "not an origin":
            urls.append(params["url"])
    return urls


def _probe(report: str, width: int, tmp: Path) -> tuple[dict, list[str]]:
    page = tmp / f"probe-{width}.html"
    page.write_text(
        PROBE.replace("WIDTH", str(width)).replace("SRCDOC", html_lib.escape(report, quote=True)),
        encoding="utf-8",
    )
    netlog = tmp / f"net-{width}.json"
    dom = _chromium(
        [
            f"--window-size={max(width, 500)},900",
            f"--log-net-log={netlog}",
            "--dump-dom",
            page.as_uri(),
        ],
        tmp,
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run: " + dom[-500:]
    return json.loads(html_lib.unescape(found.group(1))), _page_requests(netlog)


@pytest.mark.parametrize("width", [390, 1280])
def test_report_fits_the_screen_runs_no_script_and_asks_for_nothing(report_html, width, tmp_path):
    probe, requests = _probe(report_html, width, tmp_path)
    assert probe["scrollWidth"] <= probe["clientWidth"] <= width  # no horizontal page scroll
    assert probe["charts"] == 3  # bars (one layout per screen), ranks, weeks
    assert probe["minChartFont"] >= 11, probe
    assert probe["pwned"] is None  # the feedback's <script> and onerror did not run
    assert probe["resources"] == [] and not [u for u in requests if not u.startswith("file:")]
    assert "Vazirmatn:loaded" in probe["fonts"]  # Persian drew with the embedded font
    assert probe["cardsHeader"] == (["none"] if width < 640 else ["table-header-group"])


def test_the_network_check_sees_a_request(tmp_path):
    """Control: a page that does ask for an image is caught by the same check."""
    page = '<img src="http://192.0.2.1/pixel.png"><p>control</p>'
    probe, requests = _probe(page, 390, tmp_path)
    assert "http://192.0.2.1/pixel.png" in requests or probe["resources"]


def test_screenshots_desktop_and_phone(report_html, tmp_path):
    report = tmp_path / "report.html"
    report.write_text(report_html, encoding="utf-8")
    phone_page = tmp_path / "phone.html"
    phone_page.write_text(
        '<!DOCTYPE html><body style="margin:0"><iframe style="width:390px;height:3000px;border:0" '
        f'srcdoc="{html_lib.escape(report_html, quote=True)}"></iframe></body>',
        encoding="utf-8",
    )
    shots = {"desktop": (report, "1280,2400"), "phone": (phone_page, "500,3000")}
    for name, (page, size) in shots.items():
        target = tmp_path / f"{name}.png"
        _chromium([f"--screenshot={target}", f"--window-size={size}", page.as_uri()], tmp_path)
        assert target.stat().st_size > 10_000, f"{name} screenshot is empty"
