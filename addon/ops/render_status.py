"""What the Render panel says about a scene: its status line (what the last render or preview made) and
the last failure's sentence, kept in the RENDER book. The live preview and the render operators both
report through here, so neither needs the other to say what happened."""

from __future__ import annotations

from ..engine_link.run_book import RENDER

last_failure = RENDER.last_failure
running = RENDER.running  # the run rendering for a scene, or None


def set_status(scene, text: str, alert: bool = False) -> None:
    """The Render status line of `scene` (what the last render made); `alert`: it carries a warning."""
    settings = scene.talking_head.render
    settings.status, settings.status_alert = text, alert


def remember_failure(scene, text: str) -> None:
    """Show `text` in the scene's Render panel as its last failure."""
    if scene is not None:
        RENDER.remember_failure(scene.name, text)


def forget_failure(scene) -> None:
    """The scene's Render panel shows no failure."""
    RENDER.forget_failure(scene.name)
