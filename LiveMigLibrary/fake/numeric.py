"""The one checker of the numbers a fake cloud takes: nova.conf options, phase durations,
seconds of virtual time, a guest's dirty rate, a link's bandwidth.

Its rules are oslo.config's for an ``IntOpt``/``FloatOpt`` with ``min``/``max``
(``oslo_config/types.py``, ``Number.__call__``), applied to a value as nova.conf holds it,
that is as text:

* text is converted by ``int()`` (a whole number) or ``float()``, which take surrounding
  blanks and a sign: ``" 5 "``, ``"+5"`` and ``"-0"`` are numbers; ``"5.0"`` and ``"1e3"``
  are not whole numbers (``int()`` refuses them) but are numbers (``float()``);
* empty (or blank) text is "not set": oslo.config reads it as ``None``. Where ``None``
  means something (a ratio that defers to its ``initial_*`` option, a link without a
  bandwidth of its own) it is ``None``; anywhere else it is refused, as every other use
  of a missing number would fail in Nova;
* ``min`` and ``max`` are inclusive;
* true and false are not numbers: nova.conf has no boolean that ``int()``/``float()``
  read (``int("True")`` fails), although Python counts ``True`` as an int.

A value that is not text (from JSON or Python) is checked as its text would be, with two
differences that refuse what would silently become something else: a whole float (``5.0``)
is taken for a whole number but a fraction (``1.5``) is refused where oslo.config's
``int(1.5)`` would drop it; and ``nan``/``inf`` are refused though ``FloatOpt`` loads
them (``nan < min`` is false): nothing takes them after it, placement refuses an
``allocation_ratio`` above 3.40282e+38 (``placement/schemas/inventory.py``) and a phase of
``inf`` seconds never ends.

Every refusal says ``<name> must be <what is allowed>, got <the value>``.
"""

from __future__ import annotations

import math


def _show(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() else str(limit)


def number(
    name: str,
    value,
    *,
    whole: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    unit: str = "",
    none: bool = False,
) -> int | float | None:
    """``value`` as an int (``whole``) or a float, checked by the rules above.

    ``minimum``/``maximum`` are inclusive bounds, ``above`` an exclusive lower one;
    ``none`` lets empty text and ``None`` stand for "not set" (returns ``None``).
    """

    def refuse():
        what = "a whole number" if whole else "a finite number"
        if unit:
            what += f" of {unit}"
        if above is not None:
            what += f" greater than {_show(above)}"
        if minimum is not None and maximum is not None:
            what += f" from {_show(minimum)} to {_show(maximum)}"
        elif minimum is not None:
            what += f" of at least {_show(minimum)}"
        elif maximum is not None:
            what += f" of at most {_show(maximum)}"
        if none:
            what += ", or empty for none"
        return ValueError(f"{name} must be {what}, got {value!r}")

    converted = value
    if isinstance(value, str):
        if not value.strip():
            converted = None
        else:
            try:
                converted = int(value) if whole else float(value)
            except ValueError:
                raise refuse() from None
    if converted is None:
        if none:
            return None
        raise refuse()
    if isinstance(converted, bool) or not isinstance(converted, int | float):
        raise refuse()
    if isinstance(converted, float):
        if not math.isfinite(converted) or (whole and not converted.is_integer()):
            raise refuse()
    try:
        converted = int(converted) if whole else float(converted) + 0.0  # -0.0 is 0.0
    except OverflowError:  # an int too large for a float
        raise refuse() from None
    if (
        (minimum is not None and converted < minimum)
        or (maximum is not None and converted > maximum)
        or (above is not None and converted <= above)
    ):
        raise refuse()
    return converted
