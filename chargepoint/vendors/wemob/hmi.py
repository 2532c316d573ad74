"""The WEMOB DC station's own menu (More options > Settings), standing in on the bench for its
touch screen. EnableHmiConfiguration (§4.4.4) decides whether anyone at the station may use
it; a silent-mode choice there sets the SilentMode key (§4.4.3.1)."""

from __future__ import annotations

from configkeys import Configuration
from chargepoint.infra.state import StateTable
from chargepoint.vendors.wemob.display import Display

KEY = "EnableHmiConfiguration"
LANGUAGES = ("pt", "en", "es")
LANGUAGE_STATE = "wemob.language"
FACTORY_LANGUAGE = "pt"


class MenuLocked(Exception):
    """The menu refused a change; the text says why, for the person at the screen."""


class Hmi:
    def __init__(self, config: Configuration, state: StateTable, display: Display) -> None:
        self._config = config
        self._state = state
        self._display = display

    @property
    def language(self) -> str:
        return self._state.get(LANGUAGE_STATE) or FACTORY_LANGUAGE

    def set_silent_mode(self, on: bool) -> str:
        self._unlocked()
        self._config.change("SilentMode", "true" if on else "false")
        return f"menu: silent mode {'enabled' if on else 'disabled'} (SilentMode={'true' if on else 'false'})"

    def set_language(self, language: str) -> str:
        if language not in LANGUAGES:
            raise MenuLocked(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
        self._unlocked()
        self._state.set(LANGUAGE_STATE, language)
        return f"menu: language {language}"

    def _unlocked(self) -> None:
        self._display.touched()  # the screen wakes even when the menu then says no
        if not self._config.boolean(KEY):
            raise MenuLocked("the station's menu is locked: EnableHmiConfiguration is false")
