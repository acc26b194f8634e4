"""docs/scale.png: ask latency and worker memory against store size (log x), from bench/out/scale.json."""

from __future__ import annotations

from pathlib import Path


def plot(report: dict, path: Path) -> None:
    """Two panels: latency (ask p50/p95, its retrieval p50, QueryFusionRetriever p50) and memory (first
    worker's RSS, what a second worker adds, the Chroma server's RSS), both against chunks."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    results = [r for r in report["results"] if "ask" in r]  # sizes that ran to the end
    x = [r["chunks"] for r in results]
    fig, (lat, mem) = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for label, values, style in (
        ("ask p50", [r["ask"]["p50_ms"] for r in results], "o-"),
        ("ask p95", [r["ask"]["p95_ms"] for r in results], "o--"),
        ("ask retrieval p50", [r["ask_retrieval"]["p50_ms"] for r in results], "s-"),
        ("QueryFusionRetriever p50", [r["fusion"]["p50_ms"] for r in results], "^-"),
    ):
        lat.plot(x, values, style, label=label)
    lat.set(xscale="log", xlabel="chunks in the store", ylabel="ms", title="Warm latency (dev questions)")
    for label, values, style in (
        ("worker RSS after start", [r["worker1_after_start"]["rss"] for r in results], "o-"),
        ("worker RSS warm", [r["worker1_warm"]["rss"] for r in results], "o:"),
        ("2nd worker adds, warm (private)", [r["worker2_warm"]["private"] for r in results], "o--"),
        ("Chroma server RSS", [r["chroma"]["rss_after_bench_mb"] for r in results], "s-"),
    ):
        mem.plot(x, values, style, label=label)
    mem.set(xscale="log", xlabel="chunks in the store", ylabel="MB", title="Memory")
    for axis in (lat, mem):
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
        axis.set_ylim(bottom=0)
    load = ", ".join(f"{r['label']} {r['load_before'][0]:.1f}" for r in results)
    fig.suptitle(f"Newsdesk behind one Chroma server ({report['machine']['cpus']} CPUs; 1-min load at start: {load})",
                 fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
