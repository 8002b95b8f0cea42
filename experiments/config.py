"""Hydra side of the parameters: register sim's defaults and presets in the ConfigStore, compose
configs, and check overrides before anything runs (one clear line per bad value).

The yaml in ``conf/`` and the keyword arguments of :class:`sim.CartelModel` resolve to the same
:class:`sim.params.Params`: the presets are defined once, in :mod:`sim.params`.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import itertools
import typing
from pathlib import Path
from typing import Any

import yaml
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, MissingConfigException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import ConfigIndexError, OmegaConfBaseException

from sim import params

from .store import run_dirname

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
GROUPS = tuple(params.PRESETS)


def register_resolvers() -> None:
    """``${run_dirname:...}`` (conf/config.yaml's ``hydra.sweep.subdir``): a short, safe job folder name.

    Registered when this module is imported, so every launcher's worker (which imports
    ``experiments`` to unpickle the job) resolves it too."""
    if not OmegaConf.has_resolver("run_dirname"):
        OmegaConf.register_new_resolver("run_dirname", run_dirname)


register_resolvers()


def register() -> None:
    """Put the defaults (``cartelsim_defaults``) and every preset into Hydra's ConfigStore."""
    cs = ConfigStore.instance()
    defaults = params.to_dict(params.Params())
    for group in GROUPS:
        defaults.pop(group)
    cs.store(name="cartelsim_defaults", node=defaults)
    for group, table in params.PRESETS.items():
        for name, preset in table.items():
            cs.store(group=group, name=name, node=params.to_dict(preset))


def to_params(cfg: DictConfig | dict) -> params.Params:
    """The validated :class:`sim.params.Params` of a composed config (raises ParamError).

    A ``sample: {file, row}`` entry (sensitivity sweeps) sets the keys of that row of the CSV file.
    """
    data = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    sample = data.pop("sample", None)
    if sample is not None:
        for key, value in sample_values(sample).items():
            _set(data, key, value)
    try:
        return params.from_dict(data)
    except params.ParamError as err:  # cartels=5: a group of settings given one value
        if str(err.allowed).startswith("a mapping of") and not isinstance(err.value, dict) and not err.unknown_key:
            raise params.ParamError(err.key, err.value, f"{err.key} is a group, not one value: "
                                    + _set_fields_hint(err.key)) from None
        raise


def sample_values(sample: dict) -> dict[str, Any]:
    """The parameter values of row ``sample.row`` of the CSV ``sample.file`` (one column per key)."""
    if not isinstance(sample, dict) or "file" not in sample or "row" not in sample:
        raise params.ParamError("sample", sample, "a mapping with file (a CSV of samples) and row (an integer)")
    table = _samples(str(sample["file"]))
    row = sample["row"]
    if not isinstance(row, int) or not 0 <= row < len(table):
        raise params.ParamError("sample.row", row, f"an integer in 0..{len(table) - 1} (rows of {sample['file']})")
    return {k: v for k, v in table[row].items() if k != "row"}


@functools.lru_cache(maxsize=8)
def _samples(path: str) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(fh)]
    except OSError as err:
        raise params.ParamError("sample.file", path, f"a readable CSV of samples ({err.strerror})") from None


def _number(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _set(data: dict, dotted: str, value: Any) -> None:
    *path, last = dotted.split(".")
    node = data
    for part in path:
        node = node.setdefault(part, {})
    node[last] = value


LISTS = ("interventions", "timeline")  # config keys that hold a list of mappings, set whole


def _into_a_list(overrides: list[str] | tuple[str, ...], why: str = "is a list") -> params.ParamError:
    """The error for an override that reaches into a list by a name (``interventions.x=1``) or by an
    index it does not have (``timeline.0.at_step=1`` with ``why`` = 'has no such entry here')."""
    for item in overrides:
        key, _, value = item.partition("=")
        root = key.lstrip("+~").split(".")[0]
        if root in LISTS and "." in key:
            return params.ParamError(key.lstrip("+~"), value, f"{root} {why}: set it whole, e.g. "
                                     f"{root}=[{{at_step:52,...}}] (README, Changing the policy)")
    return params.ParamError("overrides", list(overrides), "overrides Hydra can apply (one of them reaches into a list)")


def compose(overrides: list[str] | tuple[str, ...] = (), with_hydra: bool = False, *, check: bool = True,
            _sweep_ok: bool = False) -> DictConfig:
    """The config the command line would use with these overrides (raises ParamError when bad).

    ``with_hydra``: also return Hydra's own node (``cfg.hydra``: sweep settings, launcher).
    ``check=False``: do not validate the model's values (a base that more overrides will complete).
    A named sweep (``experiment=guns``: its file declares ``hydra.sweeper.params``) is refused unless the
    overrides give every key it sweeps (one of its runs, as :func:`sweep_combinations` lists them);
    ``_sweep_ok`` (for :func:`sweep_plan` and the guard) composes its base all the same.
    """
    if isinstance(overrides, str):
        raise params.ParamError("overrides", overrides, f"a list of strings, e.g. [{overrides!r}]")
    register()
    _check_experiment(overrides)
    if not _sweep_ok:
        _refuse_sweep(overrides)
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=list(overrides), return_hydra_config=with_hydra)
    except MissingConfigException as err:
        raise _missing_option(err) from None
    except yaml.YAMLError as err:  # a config file in conf/ (a policy, an experiment) that does not parse
        raise _yaml_error(err) from None
    except (HydraException, OmegaConfBaseException) as err:
        bad_yaml = _cause(err, yaml.YAMLError)
        raise (_yaml_error(bad_yaml) if bad_yaml else _hydra_error(err, overrides)) from None
    except ValueError:  # OmegaConf indexing a list by a name (interventions.x=1)
        raise _into_a_list(overrides) from None
    finally:
        GlobalHydra.instance().clear()
    try:
        if check:
            to_params(without_hydra(cfg))
    except OmegaConfBaseException as err:  # an interpolation that does not resolve (e.g. in an experiment file)
        raise _hydra_error(err, overrides) from None
    return cfg


def _cause(err: BaseException, kind: type) -> BaseException | None:
    """The first exception of type ``kind`` in ``err``'s chain of causes, or None."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, kind):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def _yaml_error(err: yaml.YAMLError) -> params.ParamError:
    """One line naming the config file that does not parse and where: 'conf/policy/x.yaml: not valid YAML at
    line 4, column 1: expected ',' or ']', but got '<stream end>' (in a flow sequence from line 3, column 14)'."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    name = getattr(mark, "name", None) or "a config file"
    try:
        name = str(Path(name).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        pass
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = (getattr(err, "problem", None) or str(err).strip().splitlines()[0]).strip()
    context, cmark = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and cmark is not None and cmark is not mark:
        problem += f" ({context.removeprefix('while parsing ')}, from line {cmark.line + 1}, column {cmark.column + 1})"
    out = params.ParamError(name, "", "valid YAML")
    out.args = (f"{name}: not valid YAML{where}: {problem}; fix the file "
                "(allowed: YAML, as in the other files of conf/)",)
    return out


def _keys_near(dotted: str) -> str:
    """The keys allowed beside ``dotted`` (the fields of its parent group), for an error message."""
    cls: Any = params.Params
    parts = dotted.split(".")
    for i, part in enumerate(parts[:-1]):
        hints = typing.get_type_hints(cls)
        where = ".".join(parts[:i]) or "the top level"
        if part not in hints:  # foo.bar=1: 'foo' is not a key; list the keys that are
            here = ", ".join(f.name for f in dataclasses.fields(cls))
            return here + f" ('{part}' is not a key {'at' if i == 0 else 'in'} {where})"
        if not dataclasses.is_dataclass(hints[part]):  # steps.x=1: 'steps' holds a value, not fields
            full = ".".join(parts[:i + 1])
            return f"none below {full}: it is one value, set as {full}=..."
        cls = hints[part]
    return ", ".join(f.name for f in dataclasses.fields(cls))


def _set_fields_hint(group: str, most: int = 8) -> str:
    """'set its fields as cartels.<field>=... (fields: a, b, ... and 32 more; docs/parameters.md)'."""
    fields = _keys_near(f"{group}.x").split(", ")
    if fields[0].startswith("see "):
        return f"set its fields as {group}.<field>=..."
    more = f" and {len(fields) - most} more; docs/parameters.md" if len(fields) > most else ""
    listed = ", ".join(fields[:most]) + more
    return f"set its fields as {group}.<field>=... (fields: {listed})"


def experiments() -> list[str]:
    """Names of the named sweeps in conf/experiment/."""
    return sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))


def _options(group: str) -> list[str]:
    """The names a config group takes: the presets of sim/params.py and the files of conf/<group>/."""
    return sorted(set(params.PRESETS.get(group, {})) | {p.stem for p in (CONF_DIR / group).glob("*.yaml")})


def _check_experiment(overrides: list[str] | tuple[str, ...]) -> None:
    """``experiment`` is an optional group, so Hydra would ignore an unknown name: refuse it here; and
    a group given a list or a mapping (``policy=[a,b]`` instead of ``-m policy=a,b``), which Hydra cannot read."""
    for item in overrides:
        key, _, value = item.partition("=")
        key = key.lstrip("+~")
        if key == "experiment" and value not in experiments() and value != "null":
            raise params.ParamError("experiment", value, "one of " + ", ".join(experiments()))
        if key in (*GROUPS, "experiment") and value.startswith(("[", "{")):
            raise params.ParamError(key, value, "one name (one of " + ", ".join(_options(key))
                                    + "); to sweep several, -m " + key + "=a,b")


def swept_keys(experiment: str) -> list[str]:
    """The keys a named experiment's file sweeps (``hydra.sweeper.params``); [] for a single run."""
    path = CONF_DIR / "experiment" / f"{experiment}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []  # a missing file or bad YAML is named by the composition itself
    sweeper = ((data.get("hydra") or {}).get("sweeper") or {}) if isinstance(data, dict) else {}
    return list((sweeper.get("params") or {}) if isinstance(sweeper, dict) else {})


def _refuse_sweep(overrides: list[str] | tuple[str, ...]) -> None:
    """compose/simulate make one run: a named sweep given without a value for each key it sweeps is refused."""
    given = {str(item).partition("=")[0].lstrip("+~") for item in overrides}
    for item in overrides:
        key, _, name = str(item).partition("=")
        if key.lstrip("+~") != "experiment" or not name or name == "null":
            continue
        missing = [k for k in swept_keys(name) if k not in given]
        if missing:
            n = len(sweep_combinations([str(o) for o in overrides]))
            raise params.ParamError(
                "experiment", name,
                f"a single run: {name} is a sweep of {n} runs (over {', '.join(missing)}); run it with "
                f"`python -m experiments.run -m experiment={name}`, or list its runs with "
                f"experiments.config.sweep_combinations(['experiment={name}']) and compose each")


def without_hydra(cfg: DictConfig) -> DictConfig:
    """The model's part of a config (Hydra's own node removed)."""
    if "hydra" not in cfg:
        return cfg
    model_cfg = cfg.copy()
    with open_dict(model_cfg):
        del model_cfg["hydra"]
    return model_cfg


def _missing_option(err: MissingConfigException) -> params.ParamError:
    cfg_file = err.missing_cfg_file or ""
    group, _, name = cfg_file.rpartition("/")
    # Hydra lists the options for a choice on the command line, none for one named in a file's defaults
    options = sorted(err.options or []) or (_options(group) if group else [])
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    where = ""
    # "In 'policy/x': Could not find 'policy/kingpinn'": named in the defaults of a file
    if not err.options and first.startswith("In '"):
        where = f"named in the defaults of conf/{first.split(chr(39))[1]}.yaml; "
    return params.ParamError(group or "config", name, where + "one of " + (", ".join(options) or "the files of conf/"))


def _hydra_error(err: Exception, overrides: list[str] | tuple[str, ...]) -> params.ParamError:
    """One line from a Hydra/OmegaConf composition error."""
    first = str(err).strip().splitlines()[0]
    cause = err.__cause__ or err.__context__
    if first.startswith("Could not override '"):
        key = first.split("'")[1]
        value = next((o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0].lstrip("+~") == key), "")
        inner = str(getattr(cause, "full_key", "") or "")
        if inner.startswith(key + "."):  # a mapping with a key its group lacks: policy.shares={a:1} names 'a'
            return params.ParamError(inner, value, _keys_near(inner), unknown_key=True)
        return params.ParamError(key, value, _keys_near(key), unknown_key=True)
    if first.startswith("Error merging override ") and cause is not None:  # a value of the wrong shape
        item = first.removeprefix("Error merging override ")
        key, _, value = item.partition("=")
        why = str(cause).strip().splitlines()[0]
        if isinstance(cause, ConfigIndexError):  # timeline.0.at_step=1 where the list has no entry 0
            return _into_a_list([item], why="has no such entry here")
        if value.startswith("[") and ("DictConfig" in why or "ListConfig" in why):  # a list where a mapping is
            # ("Cannot merge DictConfig with ListConfig", e.g. policy.shares=[0.5,0.5] or output=[1])
            why = "a mapping, not a list: " + _set_fields_hint(key.lstrip("+~"))
        elif "ListConfig" in why:  # e.g. timeline={...} where a list is expected
            why = f"a list, e.g. {key}=[{value}]" if value.startswith("{") else "a list [...]"
        elif "DictConfig" in why:
            why = "a mapping {key: value, ...}"
        return params.ParamError(key.lstrip("+~"), value, why)
    key = getattr(err, "full_key", None)
    return params.ParamError(str(key) if key else "overrides", " ".join(overrides), first)


def _parse(overrides: list[str]) -> list:
    try:
        return OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as err:
        raise params.ParamError("overrides", " ".join(overrides), str(err).strip().splitlines()[0]) from None


def _values(o) -> list[str]:
    key = o.get_key_element()
    return [f"{key}={v}" for v in o.sweep_string_iterator()] if o.is_sweep_override() else [o.input_line]


def sweep_combinations(overrides: list[str]) -> list[list[str]]:
    """Every combination of overrides that ``-m overrides`` would run, including the sweep an
    experiment file declares in ``hydra.sweeper.params`` (command-line values take precedence)."""
    return sweep_plan(overrides)[0]


def sweep_plan(overrides: list[str]) -> tuple[list[list[str]], DictConfig | None]:
    """(:func:`sweep_combinations`, the composed config of its first combination with Hydra's node, or None
    when the composition made on the way is not exactly that one: an experiment file's sweep added values,
    or a Hydra setting is swept). Saves the checks of a command one composition."""
    parsed = _parse(overrides)
    first = [_values(o)[0] for o in parsed]
    first_cfg = compose(first, with_hydra=True, _sweep_ok=True)
    declared = first_cfg.hydra.sweeper.get("params") or {}
    given = {o.get_key_element() for o in parsed}
    parsed += _parse([f"{k}={v}" for k, v in declared.items() if k not in given])
    axes = [_values(o) for o in parsed if not o.get_key_element().startswith("hydra")]
    hydra_overrides = [o.input_line for o in parsed if o.get_key_element().startswith("hydra")]
    combos = [hydra_overrides + list(combo) for combo in itertools.product(*axes)]
    keys = [item.partition("=")[0].lstrip("+~") for item in first]
    same = sorted(combos[0]) == sorted(first) and len(set(keys)) == len(keys)
    return combos, first_cfg if same else None


def overrides_of(cfg: Any) -> dict[str, Any]:
    """Plain dict of a config, for the record."""
    return OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
