"""The ``explore`` command: the explorer of one scenario in the browser, served until interrupted."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import BadInput, Debug, guarded

DEFAULT_SCENARIO = Path("scenarios/phase1-2023.yaml")


def explore(
    file: Annotated[Path, typer.Argument(help="Scenario file (default: scenarios/phase1-2023.yaml).")] = DEFAULT_SCENARIO,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; other machines reach the app "
                                                     "only if this is not 127.0.0.1.")] = "127.0.0.1",
    results: Annotated[Path, typer.Option("--results", help="Folder the runs' results folders go into.")] = Path("results"),
    debug: Debug = False,
) -> None:
    """Change a scenario's assumptions in the browser, preview them, run them against the unchanged scenario."""
    def start():
        from sim.cli.common import check_writable
        from sim.explorer.app import ExplorerApp
        from sim.explorer.server import make_server

        if not file.is_file():
            raise BadInput(f"{file}: no such scenario file")
        check_writable(results, "--results")
        app = ExplorerApp(file, results)
        try:
            return make_server(app, host, port)
        except OSError as error:
            raise BadInput(f"cannot listen on {host}:{port}: {error.strerror or error}; choose another --port") from None

    server = guarded(start, debug)
    address, bound_port = server.server_address[:2]
    shown = f"[{address}]" if ":" in str(address) else address
    typer.echo(f"bordersim explore: http://{shown}:{bound_port}/ (Ctrl-C to stop)", err=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    app.command()(explore)
