"""Putting a downloaded image in place: the board's installer, or a stand-in on the bench."""

from __future__ import annotations

import asyncio
import logging
import shlex
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class InstallFailed(Exception):
    """The image was not installed; one line naming why."""


class Installer(Protocol):
    simulated: bool

    async def install(self, image: Path) -> None:
        """Raises InstallFailed."""
        ...


class SimulatedInstall:
    """The bench has no second slot to write: installing is taking the image's version."""

    simulated = True

    async def install(self, image: Path) -> None:
        if not image.is_file():
            raise InstallFailed(f"image {image.name} is gone")


class CommandInstall:
    """`rauc install {file}`, `swupdate -i {file}`: the board's own installer, whose exit status
    is the verdict. The command is split like a shell would but run without one, so a file
    name can never become a command."""

    simulated = False

    def __init__(self, template: str, timeout: float) -> None:
        self._template = template
        self._timeout = timeout

    def command(self, image: Path) -> list[str]:
        return [word.replace("{file}", str(image)) for word in shlex.split(self._template)]

    async def install(self, image: Path) -> None:
        argv = self.command(image)
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, start_new_session=True
            )
        except OSError as exc:
            raise InstallFailed(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
        try:
            _, errors = await asyncio.wait_for(process.communicate(), self._timeout)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            raise InstallFailed(f"{argv[0]} did not finish within {self._timeout:g} s") from None
        if process.returncode != 0:
            last = errors.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise InstallFailed(f"{argv[0]} exited with status {process.returncode}: {last[0][:200]}".rstrip(": "))
        log.info("firmware installer %s succeeded", argv[0])
