"""Training plots from TRL's `log_history`: the GRPO reward curve panel and the SFT loss curve (PNG, Agg backend)."""

from __future__ import annotations

from pathlib import Path

from deepmath.io.atomic import atomic_write_png

__all__ = ["plot_grpo_curves", "plot_sft_curve"]

# (log key, panel title); a panel is drawn only when its key was logged
_GRPO_PANELS = [
    ("reward", "reward (mean)"),
    ("reward_std", "reward std"),
    ("frac_reward_zero_std", "groups with zero reward std"),
    ("kl", "KL to reference"),
    ("entropy", "entropy"),
    ("clip_ratio/region_mean", "clip ratio"),
    ("completions/mean_length", "completion length (tokens)"),
    ("loss", "loss"),
]


def _series(history: list[dict], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for entry in history:
        value = entry.get(key)
        if isinstance(value, int | float) and "step" in entry:
            xs.append(entry["step"])
            ys.append(float(value))
    return xs, ys


def plot_grpo_curves(
    history: list[dict], path: str | Path, title: str = "GRPO", panels: list[tuple[str, str]] | None = None
) -> Path:
    """Reward, reward std, zero-std groups, KL, entropy, clip ratio, completion length and loss over steps
    (or the `(log key, title)` panels given)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wanted = panels or _GRPO_PANELS
    panels = [(key, label) for key, label in wanted if _series(history, key)[0]]
    panels = panels or [wanted[0]]
    cols = 4 if len(panels) > 4 else len(panels)
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    for ax, (key, label) in zip(axes.flat, panels):
        xs, ys = _series(history, key)
        ax.plot(xs, ys, marker="." if len(xs) < 40 else None)
        if key == "reward":
            _, std = _series(history, "reward_std")
            if len(std) == len(ys):
                ax.fill_between(xs, [y - s for y, s in zip(ys, std)], [y + s for y, s in zip(ys, std)], alpha=0.2)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = atomic_write_png(path, fig, dpi=100)
    plt.close(fig)
    return path


def plot_sft_curve(history: list[dict], path: str | Path, title: str = "SFT") -> Path:
    """Training loss (and token accuracy when logged) over steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    xs, ys = _series(history, "loss")
    ax.plot(xs, ys, label="loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    acc_x, acc_y = _series(history, "mean_token_accuracy")
    if acc_x:
        twin = ax.twinx()
        twin.plot(acc_x, acc_y, color="tab:orange", label="token accuracy")
        twin.set_ylabel("token accuracy")
    ax.set_title(title)
    fig.tight_layout()
    path = atomic_write_png(path, fig, dpi=100)
    plt.close(fig)
    return path
