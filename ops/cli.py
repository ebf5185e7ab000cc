"""``dsp``: operate a deployed environment of the platform from the command line.

Commands: ``doctor`` (what the account lacks before the first deploy), ``upload`` sample data to
the raw zone, ``run`` the pipeline for a date (and ``--follow`` it), ``status`` of each service's
last run, ``invoke`` the forecast endpoint with a JSON or CSV payload, list sampled video
``frames``, open a user's SageMaker ``studio`` (a short-lived URL). The environment's stacks are
``<prefix>-<env>-…`` from ``config/<env>.yaml``; every resource is read from their outputs.
``--env``, ``--profile`` and ``--region`` go before or after the command. Problems end in one line
on stderr: exit 2 for bad input (date, payload, config), 1 for AWS (credentials, missing stack, a
refused call) and for a doctor's finding that blocks.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from config.settings import ConfigError, Settings, load_settings
from ops import commands, doctor
from ops.platform import Deployed, OpsError
from workloads.sagemaker.contract import days_needed

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def day(text: str) -> date:
    """A ``yyyy-mm-dd`` calendar date, for argparse."""
    try:
        if DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date (yyyy-mm-dd)")


SESSION_OPTIONS = {
    "--env": ("dev", "environment, config/<env>.yaml (default dev)"),
    "--profile": (None, "AWS profile (default: boto3's)"),
    "--region": (None, "AWS region (default: the config's region, else boto3's)"),
}
"""Options that choose the environment and the AWS session: flag -> (default, help)."""


def _session_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Add :data:`SESSION_OPTIONS` to ``parser``, with their defaults or none (so they override)."""
    for flag, (default, summary) in SESSION_OPTIONS.items():
        parser.add_argument(flag, default=default if defaults else argparse.SUPPRESS, help=summary)


def parser() -> argparse.ArgumentParser:
    """The command line's arguments."""
    root = argparse.ArgumentParser(prog="dsp", description=__doc__.splitlines()[0])
    _session_options(root, defaults=True)
    shared = argparse.ArgumentParser(add_help=False)  # the same options after the command win
    _session_options(shared, defaults=False)
    sub = root.add_subparsers(dest="command", required=True, metavar="command")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, parents=[shared])

    command("doctor", "what the account and region lack before the first deploy (read-only)")

    upload = command("upload", "upload sample data (or a folder) to the raw zone")
    upload.add_argument("--from", dest="source", type=Path, help="a folder in the raw zone's layout")
    upload.add_argument("--stores", type=int, default=8, help="generated stores (default %(default)s)")
    upload.add_argument(
        "--days",
        type=int,
        help="generated days (default: what a first run needs to train in the environment)",
    )
    upload.add_argument("--start", type=day, default=date(2026, 3, 2), help="first generated day")

    run = command("run", "start the pipeline for a date")
    run.add_argument("--date", type=day, help="yyyy-mm-dd (default: yesterday, as the pipeline decides)")
    run.add_argument("--follow", action="store_true", help="print each step and wait for the end")
    run.add_argument("--interval", type=float, default=15.0, help="seconds between checks (default 15)")

    command("status", "the last run of each service")

    invoke = command("invoke", "send a JSON or CSV payload to the forecast endpoint")
    invoke.add_argument("payload", help="a .json or .csv file, or - for stdin")
    invoke.add_argument("--content-type", choices=["json", "csv"], help="default: from the file's name")

    frames = command("frames", "list the newest sampled video frames")
    frames.add_argument("--camera", help="a camera (or stream) name; default: every camera")
    frames.add_argument("--limit", type=int, default=10, help="frames per camera (default %(default)s)")

    studio = command("studio", "print a short-lived URL that opens a user's SageMaker Studio")
    studio.add_argument("--user", required=True, help="a name in sagemaker.studio.users")
    return root


def sample_sizes(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """What ``upload`` generates: ``--stores`` from ``--start`` for ``--days``, by default the days a
    first run needs to train in the environment (:func:`days_needed` of its held-out days)."""
    days = args.days
    if days is None:
        days = days_needed(settings.sagemaker.training.hyperparameters.validation_days)
    return {"stores": args.stores, "days": days, "start": args.start}


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code."""
    args = parser().parse_args(argv)
    try:
        settings = load_settings(args.env)
        deployed = Deployed.connect(
            settings.name_prefix, profile=args.profile, region=args.region or settings.region
        )
        match args.command:
            case "doctor":
                return doctor.doctor(deployed, settings)
            case "upload":
                return commands.upload(deployed, args.source, sample_sizes(args, settings), env=args.env)
            case "run":
                return commands.start_run(deployed, args.date, follow=args.follow, interval=args.interval)
            case "status":
                return commands.status(deployed)
            case "invoke":
                return commands.invoke(deployed, args.payload, args.content_type)
            case "studio":
                return commands.studio(deployed, settings, args.user)
            case _:
                return commands.frames(deployed, args.camera, args.limit)
    except ConfigError as error:
        print(f"dsp: config error: {error}", file=sys.stderr)
        return 2
    except commands.BadInput as error:
        print(f"dsp: {error}", file=sys.stderr)
        return 2
    except OpsError as error:
        print(f"dsp: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
