"""How lean and fast the whole bot is, beside a plain python-telegram-bot echo bot.

Both run as processes against the project's Bot API emulator (tests/emulator) and get the same
bounded backlog: the bot process is paused (SIGSTOP), the backlog is queued, the process
resumes, and the clock runs until the emulator has recorded its last reply. Each figure is a
ratio to the echo bot measured in the same run (the machine may be shared: min / median of
`--repeats`). Not a test: the figures depend on the machine.

Figures: RSS idle (after start-up and one message from each user) and after the backlog; CPU
per message (the process's user + system time over the backlog); answered per second with
Telegram's 30/s cap (PTB's AIORateLimiter, as bot/transport/app.py configures it) and with
that cap lifted (the same limiter with no overall rate, so only the bot limits); `run` to the
first answer; `ask` and `--help` as processes. Then a per-message breakdown of the bot's own
CPU (database, understanding, engine; the rest is the transport: PTB, HTTP, sending), from a
separate, instrumented run; with `--postgres URL` (a database the bench may empty) the same
for PostgreSQL, where the database's wall time per message is the figure that matters.

    .venv/bin/python bench/lean.py [--messages 2000] [--capped-messages 300] [--repeats 3]
        [--before PATH_TO_OTHER_CHECKOUT] [--postgres postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Appended, not put first: the instrumented bot imports this module, and must keep finding
# its own `bot` package (another checkout's, with --before) before this one's.
sys.path.append(str(ROOT))

from tests.emulator.client import EmulatorClient, run_emulator  # noqa: E402

QUESTIONS = [
    ("es", "donde queda el centro de tapachula"),
    ("en", "is cbp one still working"),
    ("fr", "comment demander l asile au mexique"),
    ("ht", "kijan pou m jwenn transfe a"),
    ("es", "cuanto cuesta la cita"),
    ("en", "can my family come on the bus north"),
    ("fr", "il y a un medecin dans les centres"),
    ("ht", "kisa cbp one ye"),
]
USERS = 100
TICKS = os.sysconf("SC_CLK_TCK")

# The bot, started as `migrant-bot run` would be, optionally with the rate cap lifted (the
# overall limit of PTB's AIORateLimiter set to none) and with timers on its parts.
BOT = """
import os, sys
if os.environ.get("LEAN_UNCAPPED"):
    from telegram.ext import AIORateLimiter
    _init = AIORateLimiter.__init__
    def _uncapped(self, *args, **kwargs):
        kwargs["overall_max_rate"] = 0
        _init(self, *args, **kwargs)
    AIORateLimiter.__init__ = _uncapped
if os.environ.get("LEAN_PROFILE"):
    sys.path.insert(0, os.environ["LEAN_BENCH"])
    import lean
    lean.instrument(os.environ["LEAN_PROFILE"])
from bot.cli.main import main
sys.exit(main(["run"]))
"""


def echo_bot(capped: bool) -> None:
    """The anchor: python-telegram-bot's own echo example, pointed at the emulator."""
    from telegram import Update
    from telegram.ext import AIORateLimiter, ApplicationBuilder, MessageHandler, filters

    async def echo(update: Update, _context: object) -> None:
        if update.message is not None and update.message.text:
            await update.message.reply_text(update.message.text)

    base = os.environ["TELEGRAM_API_BASE_URL"]
    builder = ApplicationBuilder().token(os.environ["TELEGRAM_BOT_TOKEN"]).base_url(base)
    builder = builder.base_file_url(base.replace("/bot", "/file/bot"))
    if capped:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))  # type: ignore[arg-type]
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(poll_interval=0.0, timeout=25)


# ---------------------------------------------------------------- the instrumented bot


def instrument(out: str) -> None:
    """Timers (thread CPU and wall time) on the bot's database, understanding and engine;
    written to `out` as JSON when the process ends. Only the outermost call of a kind counts,
    so a method calling another is not counted twice."""
    import atexit

    from bot.dialog.engine import Engine
    from bot.handoff.desk import Desk
    from bot.storage.store import Store
    from bot.understanding.reader import Reader

    totals: dict[str, list[float]] = {k: [0.0, 0.0] for k in ("db", "understanding", "engine")}
    local = threading.local()
    lock = threading.Lock()

    def timed(kind: str, function: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> object:
            if getattr(local, kind, False):
                return function(*args, **kwargs)
            setattr(local, kind, True)
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                setattr(local, kind, False)
                with lock:
                    totals[kind][0] += time.thread_time() - cpu
                    totals[kind][1] += time.perf_counter() - wall

        return wrapper

    for cls in (Store, Desk):
        for name, member in list(vars(cls).items()):
            if callable(member) and not name.startswith("_") and name != "session":
                setattr(cls, name, timed("db", member))
    Reader.read = timed("understanding", Reader.read)  # type: ignore[method-assign,assignment]
    Engine.handle = timed("engine", Engine.handle)  # type: ignore[method-assign,assignment]

    def dump() -> None:
        cpu = os.times()
        Path(out).write_text(json.dumps({"totals": totals, "cpu": cpu.user + cpu.system}))

    atexit.register(dump)


# ---------------------------------------------------------------- measuring a process


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Run:
    first_answer: float = 0.0
    rss_idle: float = 0.0
    rss_after: float = 0.0
    cpu_ms: float = 0.0
    per_second: float = 0.0
    replies: float = 0.0  # Bot API send calls per message
    profile: dict[str, object] = field(default_factory=dict)


def _sends(emulator: EmulatorClient) -> int:
    chats = emulator.state()["chats"]
    return sum(c["sent_count"] for c in chats if c["chat"]["type"] == "private")


def _push(emulator: EmulatorClient, users: list[int], count: int, offset: int = 0) -> None:
    """Queues `count` messages round-robin over `users`, from four threads."""

    def part(start: int) -> None:
        client = EmulatorClient(emulator.url, emulator.token)
        try:
            for n in range(start, count, 4):
                user = users[n % len(users)]
                client.send_text(user, QUESTIONS[(user + n + offset) % len(QUESTIONS)][1])
        finally:
            client.close()

    threads = [threading.Thread(target=part, args=(s,)) for s in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _settle(emulator: EmulatorClient, at_least: int, quiet: float, timeout: float) -> int:
    """Waits until the bot sent `at_least` messages in all and then nothing for `quiet` s."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        sent = _sends(emulator)
        if sent != last:
            last, since = sent, time.monotonic()
        elif sent >= at_least and time.monotonic() - since >= quiet:
            return sent
        time.sleep(0.1)
    raise TimeoutError(f"only {last} of at least {at_least} replies in {timeout:.0f} s")


def measure(
    command: list[str],
    cwd: Path,
    messages: int,
    extra_env: dict[str, str],
    database: Callable[[], str],
) -> Run:
    """One process through start-up, a warm-up message per user, and the backlog."""
    run = Run()
    with tempfile.TemporaryDirectory() as folder, run_emulator() as emulator:
        users = [900_000 + n for n in range(USERS)]
        for user in users:
            emulator.user(user, f"User {user}", language_code=QUESTIONS[user % 8][0])
        env = {
            **os.environ,
            "PYTHONPATH": str(cwd),
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_API_BASE_URL": emulator.bot_api_url,
            "DATABASE_URL": database().replace("{folder}", folder),
            "LOG_LEVEL": "WARNING",
            **extra_env,
        }
        emulator.send_text(users[0], QUESTIONS[0][1])
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env)
        try:
            emulator.wait_for_messages(users[0], count=1, timeout=120)
            run.first_answer = time.perf_counter() - started
            _settle(emulator, 1, quiet=1.0, timeout=60)
            _push(emulator, users, len(users), offset=1)  # every user has written once
            before = _settle(emulator, len(users), quiet=1.5, timeout=300)
            run.rss_idle = rss_mb(process.pid)
            os.kill(process.pid, signal.SIGSTOP)
            try:
                _push(emulator, users, messages, offset=2)
                last_seq = max((c["seq"] for c in emulator.calls()), default=0)
                cpu = cpu_seconds(process.pid)
                resumed = time.time()
            finally:
                os.kill(process.pid, signal.SIGCONT)
            _settle(emulator, before + messages, quiet=2.0, timeout=1800)
            run.cpu_ms = 1000 * (cpu_seconds(process.pid) - cpu) / messages
            run.rss_after = rss_mb(process.pid)
            sends = [
                c["time"]
                for c in emulator.calls()
                if c["seq"] > last_seq and c["method"].lower().startswith("send")
            ]
            run.per_second = messages / (max(sends) - resumed)
            run.replies = len(sends) / messages
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        profile = extra_env.get("LEAN_PROFILE")
        if profile and Path(profile).exists():
            run.profile = json.loads(Path(profile).read_text())
    return run


def timed_process(command: list[str], cwd: Path, repeats: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(cwd), "LOG_LEVEL": "WARNING"}
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)  # warm caches
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


# ---------------------------------------------------------------- the table


@contextmanager
def postgres_database(url: str) -> Iterator[Callable[[], str]]:
    """A fresh, empty schema for each run (update ids start again at 1 on a new emulator)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)

    def fresh() -> str:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        return url

    try:
        yield fresh
    finally:
        engine.dispose()


def spread(values: list[float], digits: int = 1) -> str:
    low, mid = min(values), statistics.median(values)
    return f"{low:.{digits}f} / {mid:.{digits}f}"


def ratio(ours: list[float], echo: list[float]) -> str:
    return f"{statistics.median(ours) / statistics.median(echo):.2f}×"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000, help="backlog, cap lifted")
    parser.add_argument("--capped-messages", type=int, default=300, help="backlog, 30/s cap")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another checkout, measured beside this one")
    parser.add_argument("--postgres", help="a PostgreSQL URL the bench may empty")
    parser.add_argument("--only-breakdown", action="store_true", help="the per-message table")
    parser.add_argument("--echo-bot", choices=("capped", "uncapped"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_bot:
        echo_bot(args.echo_bot == "capped")
        return
    python = sys.executable
    sqlite = lambda: "sqlite:///{folder}/bench.sqlite3"  # noqa: E731
    bots = {"this bot": ROOT}
    if args.before:
        bots = {"before": args.before.resolve(), **bots}
    echo = [python, str(Path(__file__).resolve()), "--echo-bot"]
    runs: dict[str, dict[str, list[Run]]] = {}
    for repeat in range(0 if args.only_breakdown else args.repeats):
        print(f"repeat {repeat + 1}/{args.repeats}", file=sys.stderr)
        for name, root in {"echo bot": ROOT, **bots}.items():
            for capped in (True, False):
                if name == "echo bot":
                    command = [*echo, "capped" if capped else "uncapped"]
                    extra = {}
                else:
                    command = [python, "-c", BOT]
                    extra = {} if capped else {"LEAN_UNCAPPED": "1"}
                count = args.capped_messages if capped else args.messages
                run = measure(command, root, count, extra, sqlite)
                runs.setdefault(name, {}).setdefault("capped" if capped else "free", []).append(
                    run
                )
    processes: dict[str, dict[str, list[float]]] = {}
    for name, root in {} if args.only_breakdown else bots.items():
        processes["echo bot"] = {
            "import": timed_process([python, "-c", "import telegram"], ROOT, args.repeats)
        }
        processes[name] = {
            "ask": timed_process([python, "-m", "bot", "ask", "hola"], root, args.repeats),
            "help": timed_process([python, "-m", "bot", "--help"], root, args.repeats),
        }
    databases = {"SQLite": sqlite}
    breakdown: dict[tuple[str, str], Run] = {}
    with tempfile.TemporaryDirectory() as folder, contextmanager_or_none(args.postgres) as pg:
        if pg is not None:
            databases["PostgreSQL"] = pg
        for name, root in bots.items():
            for db_name, database in databases.items():
                profile = str(Path(folder) / f"{name}-{db_name}.json")
                extra = {
                    "LEAN_UNCAPPED": "1",
                    "LEAN_PROFILE": profile,
                    "LEAN_BENCH": str(Path(__file__).resolve().parent),
                }
                breakdown[name, db_name] = measure(
                    [python, "-c", BOT], root, args.messages, extra, database
                )
    print_table(runs, processes, breakdown, args)


@contextmanager
def contextmanager_or_none(url: str | None) -> Iterator[Callable[[], str] | None]:
    if url is None:
        yield None
        return
    with postgres_database(url) as fresh:
        yield fresh


def print_table(
    runs: dict[str, dict[str, list[Run]]],
    processes: dict[str, dict[str, list[float]]],
    breakdown: dict[tuple[str, str], Run],
    args: argparse.Namespace,
) -> None:
    if runs:
        print_ratios(runs, processes, args)
    print_breakdown(breakdown, args.messages)


def print_ratios(
    runs: dict[str, dict[str, list[Run]]],
    processes: dict[str, dict[str, list[float]]],
    args: argparse.Namespace,
) -> None:
    echo = runs["echo bot"]
    names = [n for n in runs if n != "echo bot"]
    n, capped_n = args.messages, args.capped_messages
    print(
        f"\n{args.repeats} repeats, backlog {n} messages from {USERS} users ({capped_n} with "
        "the 30/s cap); min / median; ratio of medians to the echo bot\n"
    )
    header = "| figure | echo bot | " + " | ".join(f"{b} | ratio" for b in names) + " |"
    print(header)
    print("|---" * (2 + 2 * len(names)) + "|")

    def row(label: str, pick: Callable[[dict[str, list[Run]]], list[float]], d: int = 1) -> None:
        cells = [spread(pick(echo), d)]
        for name in names:
            cells += [spread(pick(runs[name]), d), ratio(pick(runs[name]), pick(echo))]
        print(f"| {label} | " + " | ".join(cells) + " |")

    row("RSS idle, MB", lambda r: [x.rss_idle for x in r["free"]])
    row(f"RSS after {n} messages, MB", lambda r: [x.rss_after for x in r["free"]])
    row("CPU per message, ms", lambda r: [x.cpu_ms for x in r["free"]], 2)
    row("replies sent per message", lambda r: [x.replies for x in r["free"]], 2)
    row("answered/s, 30/s cap on replies", lambda r: [x.per_second for x in r["capped"]])
    row("answered/s, cap lifted", lambda r: [x.per_second for x in r["free"]])
    row("`run` → first answer, s", lambda r: [x.first_answer for x in r["free"] + r["capped"]], 2)
    anchor = processes["echo bot"]["import"]
    for label, key in (('`ask "hola"` as a process, s', "ask"), ("`--help`, s", "help")):
        cells = [spread(anchor, 2)]
        for name in names:
            cells += [spread(processes[name][key], 2), ratio(processes[name][key], anchor)]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("\n(the echo bot's column for `ask` and `--help` is `python -c 'import telegram'`)")


def print_breakdown(breakdown: dict[tuple[str, str], Run], n: int) -> None:
    print(f"\nPer message, instrumented run ({n} messages, cap lifted): CPU ms (wall ms)\n")
    print("| bot, database | DB | understanding | engine | rest: PTB, HTTP, sending | all |")
    print("|---|---|---|---|---|---|")
    for (name, db_name), run in breakdown.items():
        totals = run.profile.get("totals", {})
        assert isinstance(totals, dict)
        db, und, eng = (totals.get(k, [0.0, 0.0]) for k in ("db", "understanding", "engine"))
        engine_only = [eng[0] - und[0], eng[1] - und[1]]
        handled = n + USERS + 1  # the timers also saw the first and warm-up messages
        rest = run.cpu_ms - 1000 * (db[0] + eng[0]) / handled
        cells = [
            f"{1000 * c / handled:.2f} ({1000 * w / handled:.2f})"
            for c, w in (db, und, engine_only)
        ]
        cells += [f"{rest:.2f}", f"{run.cpu_ms:.2f}"]
        print(f"| {name}, {db_name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
