"""Everything the user typed is checked before Hydra starts (``experiments.run``'s ``cli``).

One line naming the key and what is allowed, exit status 2, nothing written, for:

- the override grammar (non-ASCII or stray characters: the override and how to quote it);
- removing keys (``~steps``), adding Hydra keys (``+hydra.foo=1``) other than launcher and sweeper
  settings, interpolations (``${...}``) in model keys, and any Hydra callback or ``_target_`` that is
  not on :data:`ALLOWED_TARGETS` (from the command line or an experiment file);
- a file of ``conf/`` that is not valid YAML: the file, line and column (``config.compose``);
- sweep values (``policy=a,b``, ``seed=range(0,4)``) without ``-m`` (unless an experiment file sets
  ``hydra.mode: MULTIRUN``): add -m;
- the output folder: empty, the file system's root, the current folder, a file, or not writable;
- every combination of a sweep, composed and validated (fast: one Hydra composition per distinct
  set of config-group choices; the other values are set on its result, as Hydra would set them).
"""

from __future__ import annotations

import copy
import functools
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.params import ParamError

from . import config

# Hydra objects an override or experiment file may name: our callbacks, and installed Hydra plugins
# (launchers, sweepers) as conf/hydra/launcher/ selects them.
ALLOWED_TARGETS = ("experiments.callbacks.SweepProgress",)
ALLOWED_TARGET_PREFIXES = ("hydra_plugins.",)
# Hydra keys that may be added with '+' (launcher and sweeper settings, e.g. Ray's init.num_cpus)
ADDABLE_HYDRA = ("hydra.launcher.", "hydra.sweeper.")
# config groups: the presets registered from sim.params and every folder of conf/ (experiment, resolution, ...)
GROUP_KEYS = tuple(sorted({"territory", "policy", "scenario"} | {
    p.name for p in config.CONF_DIR.iterdir() if p.is_dir() and p.name != "hydra"}))


def _target_ok(target: Any) -> bool:
    return isinstance(target, str) and (target in ALLOWED_TARGETS or target.startswith(ALLOWED_TARGET_PREFIXES))


def _allowed_targets() -> str:
    return ", ".join(ALLOWED_TARGETS) + ", or an installed Hydra plugin (hydra_plugins.*)"


def parse(overrides: list[str]) -> list:
    """Hydra's parse of each override; a line naming the one it cannot read."""
    parser = OverridesParser.create()
    out = []
    for item in overrides:
        try:
            out += parser.parse_overrides([item])
        except HydraException:
            key, _, value = item.partition("=")
            raise ParamError(key.lstrip("+~") or "overrides", value or item,
                             "a value Hydra's override grammar reads: letters, digits and _-./: as they are; "
                             f"quote any other text, e.g. {_quoted(key, value)}") from None
    return out


def _quoted(key: str, value: str) -> str:
    """``key=value`` with the text Hydra cannot read quoted: the whole value, or inside a list or mapping
    (``[{where:Michoacán}]``) each element that needs it (``[{where:'Michoacán'}]``), so the value keeps its shape."""
    if not value.startswith(("[", "{")):
        return f"{key}='{value}'"
    plain = re.compile(r"[\w\-./]+", re.ASCII)

    def quote(m: re.Match) -> str:
        word = m.group(0).strip()
        return word if plain.fullmatch(word) or word[0] in "'\"" else f"'{word}'"
    return f"{key}=" + re.sub(r"'[^']*'|\"[^\"]*\"|[^\[\]{}:,'\"]*[^\[\]{}:,'\"\s]", quote, value)


def check_each(overrides: list[str]) -> None:
    """The rules that hold for an override on its own (see the module's docstring)."""
    for o in parse(overrides):
        key, text = o.key_or_group, o.input_line.partition("=")[2]
        if o.is_delete():
            raise ParamError(key, o.input_line, "a value to set; keys cannot be removed with ~")
        if key.split(".")[-1] == "_target_" or key.startswith("hydra.callbacks"):
            value = o.value() if not o.is_sweep_override() else text
            if not (key.split(".")[-1] == "_target_" and _target_ok(value)):
                raise ParamError(key, value, "Hydra callbacks and _target_ only from " + _allowed_targets())
        if key.startswith("hydra") and (o.is_add() or o.is_force_add()) and not key.startswith(ADDABLE_HYDRA):
            raise ParamError(key, text, "an existing Hydra setting; '+' adds only under " + ", ".join(ADDABLE_HYDRA))
        if not key.startswith("hydra") and "${" in text:
            raise ParamError(key, text, "a value typed out: interpolations (${...}) are not taken in model keys")


def check_hydra(cfg, multirun: bool) -> None:
    """Callbacks and the output folder of a composed config (with its ``hydra`` node)."""
    try:
        callbacks = OmegaConf.to_container(cfg.hydra.callbacks, resolve=False) or {}
        for name, cb in callbacks.items():
            target = cb.get("_target_") if isinstance(cb, dict) else cb
            if not _target_ok(target):
                raise ParamError(f"hydra.callbacks.{name}._target_", target,
                                 "Hydra callbacks only from " + _allowed_targets())
        multirun = multirun or str(cfg.hydra.mode) in ("MULTIRUN", "RunMode.MULTIRUN")
        key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
        folder = OmegaConf.select(cfg, key)
    except OmegaConfBaseException as err:
        raise ParamError(str(getattr(err, "full_key", "") or "hydra"), "", _first_line(err)) from None
    check_output_dir(key, folder)
    if not multirun and (Path(str(folder)).expanduser() / "multirun.yaml").is_file():
        raise ParamError(key, str(folder), "a folder for one run, not a sweep's folder (it holds multirun.yaml): "
                         "a run written there would mix with the sweep's files")


def check_output_dir(key: str, folder: Any) -> None:
    """A folder results may go into: not empty, not '/', not the current folder, writable."""
    text = "" if folder is None else str(folder)
    if not text.strip():
        raise ParamError(key, text, "a folder to write into (empty would mean the current folder)")
    path = Path(text).expanduser().resolve()
    if path == Path(path.anchor):
        raise ParamError(key, text, "a folder below the root of the file system, not the root itself")
    if path == Path.cwd().resolve():
        raise ParamError(key, text, "a folder other than the current one, e.g. outputs/run1")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ParamError(key, text, f"a folder; {existing} is a file")
    try:  # os.access alone says yes to root everywhere, /proc included: try, and leave nothing behind
        if not os.access(existing, os.W_OK | os.X_OK):
            raise PermissionError
        os.rmdir(tempfile.mkdtemp(prefix=".cartelsim-write-test-", dir=existing))
    except OSError:
        raise ParamError(key, text, f"a folder you can write to; {existing} is not writable") from None


def check_not_a_sweep(overrides: list[str]) -> None:
    """Sweep values (``policy=a,b``, ``seed=range(0,4)``) in a command without ``-m`` (Hydra would stop with
    several lines on 'Ambiguous value'): one line saying to add -m."""
    for o in parse(overrides):
        if o.is_sweep_override():
            key, _, value = o.input_line.partition("=")
            raise ParamError(key.lstrip("+~"), value, "one value without -m; this is a sweep: add -m "
                             f"(python -m experiments.run -m {o.input_line} ...)")


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _group_part(combo: list[str]) -> tuple[list[str], list[str]]:
    """(overrides that pick config groups or touch Hydra, the plain value overrides)."""
    groups, values = [], []
    for item in combo:
        key = item.partition("=")[0].lstrip("+~")
        (groups if key in GROUP_KEYS or "/" in key or key.startswith("hydra") else values).append(item)
    return groups, values


def check_combinations(combos: list[list[str]]) -> None:
    """Compose and validate every combination (raises ParamError on the first bad one); see iter_params."""
    for _ in iter_params(combos):
        pass


def iter_params(combos: list[list[str]]):
    """The validated Params of each combination, as the command line would run it, fast.

    Hydra composes once per distinct set of group choices (``policy=``, ``territory=``, ``experiment=``,
    Hydra keys); the plain values (``key=value``, ``+key=value`` with a number, text, boolean or list)
    are set on a copy of that result, which is what Hydra does with them. An override of another
    kind (a mapping value, an interpolation) takes the full Hydra composition for its combination.
    """
    bases: dict[tuple, dict] = {}
    parsed: dict[str, Any] = {}
    for combo in combos:
        groups, values = _group_part(combo)
        ops = []
        for item in values:
            if item not in parsed:
                o = parse([item])[0]
                simple = o.type.name in ("CHANGE", "ADD", "FORCE_ADD") and not isinstance(o.value(), dict) \
                    and "${" not in item
                parsed[item] = (o.key_or_group, o.value(), o.type.name) if simple else None
            ops.append(parsed[item])
        if any(op is None for op in ops):
            yield config.to_params(config.compose(combo))
            continue
        key = tuple(groups)
        if key not in bases:
            cfg = config.compose(groups, check=False, _sweep_ok=True)  # the sweep's values are set below
            try:
                bases[key] = OmegaConf.to_container(cfg, resolve=True)
            except OmegaConfBaseException as err:
                raise ParamError(str(getattr(err, "full_key", "") or "config"), " ".join(groups), _first_line(err)) from None
        data = copy.deepcopy(bases[key])
        for dotted, value, kind in ops:
            _set_like_hydra(data, dotted, value, kind, combo)
        yield config.to_params(data)


def _set_like_hydra(data: dict, dotted: str, value: Any, kind: str, combo: list[str]) -> None:
    *path, last = dotted.split(".")
    node = data
    for i, part in enumerate(path):
        if not isinstance(node, dict) or (part not in node and kind == "CHANGE"):
            raise ParamError(dotted, value, config._keys_near(dotted), unknown_key=True)
        node = node.setdefault(part, {})
    if not isinstance(node, dict) or (kind == "CHANGE" and last not in node):
        raise ParamError(dotted, value, config._keys_near(dotted), unknown_key=True)
    if kind == "ADD" and last in node:
        raise ParamError(dotted, value, f"no '+': {dotted} exists already; set it with {dotted}=...")
    node[last] = value


# The jobs check_command composed and validated in this process, as job_key gives them: Hydra's sweeper
# need not compose them once more before launching them (hydra_plugins.cartelsim_launchers.CheckedSweeper).
_checked: set[tuple[str, ...]] = set()


@functools.lru_cache(maxsize=4096)
def _canonical(item: str) -> str | None:
    """``key=value`` as Hydra's basic sweeper writes a job's override (None for a Hydra key)."""
    o = parse([item])[0]
    key = o.get_key_element()
    return None if key.lstrip("+~").startswith("hydra") else f"{key}={o.get_value_element_as_str()}"


def job_key(overrides) -> tuple[str, ...] | None:
    """A job's model overrides in Hydra's form, sorted; None when a key repeats (order would matter)."""
    items = [c for c in map(_canonical, overrides) if c is not None]
    keys = [c.partition("=")[0].lstrip("+~") for c in items]
    return tuple(sorted(items)) if len(set(keys)) == len(keys) else None


def was_checked(job_overrides) -> bool:
    """Whether check_command composed and validated exactly this job (its overrides) in this process."""
    try:
        key = job_key(list(job_overrides))
    except ParamError:
        return False
    return key is not None and key in _checked


def check_command(overrides: list[str], multirun: bool) -> int:
    """Every check of a command line; the number of runs it asks for."""
    check_each(overrides)
    combos, first = config.sweep_plan(overrides)  # with an experiment file's sweep (hydra.mode: MULTIRUN)
    rest = combos[1:]  # sweep_plan composed and validated the first combination (compose's check)
    if first is None:  # ... unless it differs from the composition sweep_plan made
        first, rest = config.compose(combos[0], with_hydra=True), combos
    check_hydra(first, multirun)
    if not (multirun or str(first.hydra.mode) in ("MULTIRUN", "RunMode.MULTIRUN")):
        check_not_a_sweep(overrides)
    declared = [o for c in combos[:1] for o in c if o not in overrides]
    if declared:
        check_each(declared)
    check_combinations(rest)
    _checked.update(k for k in map(job_key, combos) if k is not None)
    return len(combos)

