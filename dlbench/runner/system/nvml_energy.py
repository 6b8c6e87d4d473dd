"""NVIDIA GPU energy through NVML (nvidia-ml-py, imported only when a CUDA run asks for it).

Two readings, the first where the GPU has it:
- `nvml-energy`: `nvmlDeviceGetTotalEnergyConsumption`, the driver's counter of the board's energy in mJ since
  the driver was loaded (Volta and later): read at both ends of the timed part, the difference is the energy
  (`counter_joules`).
- `nvml-power`: `nvmlDeviceGetPowerUsage` (mW, the board's power draw; on some older boards an average over
  the last second), sampled by dlbench.runner.energy at a stated interval and integrated over time by the
  trapezoid rule (`trapezoid_joules`).

Which NVML device a framework's `cuda:N` is: CUDA numbers the devices that `CUDA_VISIBLE_DEVICES` leaves, in
its own order, NVML all of them in PCI order. The device is found by its UUID where PyTorch gives it; else
through `CUDA_VISIBLE_DEVICES` (`nvml_target`), which is exact when every GPU is the same model or
`CUDA_DEVICE_ORDER=PCI_BUS_ID` is set. A MIG instance is refused: NVML's counters cover the whole GPU.
"""

from __future__ import annotations

from typing import Any, Sequence


class Unavailable(Exception):
    """NVML cannot give this GPU's energy; `reason` says why, in words for the result's `energy.missing`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def counter_joules(start_mj: int, end_mj: int) -> float | None:
    """The energy between two reads of the total-energy counter, in J; None when the counter went back (the
    driver was reloaded in between: the difference means nothing)."""
    if end_mj < start_mj:
        return None
    return (end_mj - start_mj) / 1000.0


def trapezoid_joules(samples: Sequence[tuple[float, float]]) -> float:
    """The energy of a power curve given as (seconds, watts) samples in time order, by the trapezoid rule:
    the sum over successive samples of their interval x their mean power (0 with fewer than two samples)."""
    return sum((t1 - t0) * (p0 + p1) / 2.0 for (t0, p0), (t1, p1) in zip(samples, samples[1:]))


def nvml_target(cuda_index: int, visible: str | None) -> int | str:
    """The NVML device of CUDA device `cuda_index` under `CUDA_VISIBLE_DEVICES=visible`: an NVML index, or a
    UUID (`GPU-...`); Unavailable for a MIG instance or an index the variable does not list."""
    if not visible or not visible.strip():
        return cuda_index
    entries = [e.strip() for e in visible.split(",") if e.strip()]
    if cuda_index >= len(entries):
        raise Unavailable(f"CUDA_VISIBLE_DEVICES={visible} lists no device {cuda_index}")
    entry = entries[cuda_index]
    if entry.startswith("MIG-"):
        raise Unavailable("the device is a MIG instance: NVML's energy and power readings cover the whole GPU")
    if entry.isdigit():
        return int(entry)
    return entry


class Gpu:
    """One GPU opened through NVML (`nvmlInit` here, `nvmlShutdown` in `close`): its name, whether it has the
    energy counter, and the readings. Unavailable, with the reason, when NVML or the GPU cannot be opened."""

    def __init__(self, target: int | str):
        try:
            import pynvml
        except ImportError:
            raise Unavailable("nvidia-ml-py (pynvml) is not installed: `pip install nvidia-ml-py`") from None
        self._nvml = pynvml
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:
            raise Unavailable(f"NVML could not start (no NVIDIA driver?): {exc}") from None
        try:
            if isinstance(target, str):
                self.handle = pynvml.nvmlDeviceGetHandleByUUID(target)
                self.index = int(pynvml.nvmlDeviceGetIndex(self.handle))
            else:
                self.handle = pynvml.nvmlDeviceGetHandleByIndex(target)
                self.index = target
            name = pynvml.nvmlDeviceGetName(self.handle)
            self.name = name.decode() if isinstance(name, bytes) else str(name)
        except pynvml.NVMLError as exc:
            self.close()
            raise Unavailable(f"NVML has no GPU {target}: {exc}") from None

    def has_counter(self) -> bool:
        """Whether the total-energy counter can be read (Volta and later, and the driver allows it)."""
        try:
            self.energy_mj()
            return True
        except Unavailable:
            return False

    def energy_mj(self) -> int:
        try:
            return int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle))
        except self._nvml.NVMLError as exc:
            raise Unavailable(f"NVML total-energy counter of GPU {self.index}: {exc}") from None

    def power_w(self) -> float:
        try:
            return self._nvml.nvmlDeviceGetPowerUsage(self.handle) / 1000.0
        except self._nvml.NVMLError as exc:
            raise Unavailable(f"NVML power reading of GPU {self.index}: {exc}") from None

    def covers(self) -> str:
        return f"GPU {self.index} board ({self.name}, NVML index {self.index}; not the CPU or the rest of the machine)"

    def close(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - shutting down twice or after a failed init
            pass


def torch_uuid(cuda_index: int) -> str | None:
    """The NVML UUID (`GPU-...`) of PyTorch's CUDA device `cuda_index`, when PyTorch is loaded and gives it."""
    import sys

    torch: Any = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        uuid = str(torch.cuda.get_device_properties(cuda_index).uuid)
    except Exception:  # noqa: BLE001 - older PyTorch without `uuid`, or a non-CUDA build
        return None
    return uuid if uuid.startswith(("GPU-", "MIG-")) else f"GPU-{uuid}"
