"""Session report: a self-contained HTML page (figures embedded as base64 PNG) plus the PNG files.

    from gaitmon.report import build_report
    path = build_report(steps, out_dir, title="Track, 12 May", previous=[...])

Inputs are per-step rows (data-contracts §3: ``gaitmon.core.Step`` objects or dicts); angles in
degrees (pelvis frame), times in s on the recording's clock.
"""

from gaitmon.report.build import ReportData, build_report, report_data

__all__ = ["build_report", "report_data", "ReportData"]
