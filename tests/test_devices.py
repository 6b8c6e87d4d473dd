"""Device names and accelerator grouping (plain dicts: NVML itself cannot run on the CI machines)."""

from __future__ import annotations

import pytest

from dlbench.contract.device_names import cpu_name, normalize_name
from dlbench.runner.system import devices
from dlbench.runner.system.devices import group_accelerators, pcie_id
from dlbench.store import synthetic


@pytest.mark.parametrize("raw, expected", [
    ("NVIDIA GeForce RTX 3050", "NVIDIA RTX 3050"),
    ("GeForce RTX 3090", "NVIDIA RTX 3090"),
    ("NVIDIA GeForce RTX 3090", "NVIDIA RTX 3090"),
    ("NVIDIA  GeForce   RTX 4090 ", "NVIDIA RTX 4090"),
    ("nvidia GeForce RTX 4090", "NVIDIA RTX 4090"),
    ("NVIDIA GeForce RTX 3050 Laptop GPU", "NVIDIA RTX 3050 Laptop GPU"),
    ("GeForce GTX 1080 Ti", "NVIDIA GTX 1080 Ti"),
    ("NVIDIA GeForce GTX TITAN X", "NVIDIA GTX TITAN X"),
    ("NVIDIA A100-SXM4-40GB", "NVIDIA A100 SXM4 40GB"),
    ("NVIDIA A100-PCIE-40GB", "NVIDIA A100 PCIe 40GB"),
    ("NVIDIA A100 80GB PCIe", "NVIDIA A100 80GB PCIe"),
    ("NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"),
    ("NVIDIA H100 80 GB HBM3", "NVIDIA H100 80GB HBM3"),
    ("Tesla V100-SXM2-16GB", "NVIDIA V100 SXM2 16GB"),
    ("Tesla T4", "NVIDIA T4"),
    ("Tesla M60", "NVIDIA M60"),
    ("NVIDIA A10G", "NVIDIA A10G"),
    ("NVIDIA L40S", "NVIDIA L40S"),
    ("Quadro RTX 6000", "NVIDIA Quadro RTX 6000"),
    ("RTX A6000", "NVIDIA RTX A6000"),
    ("Radeon RX 7900 XTX", "AMD Radeon RX 7900 XTX"),
    ("AMD Radeon RX 7900 XTX", "AMD Radeon RX 7900 XTX"),
    ("AMD Instinct MI250X", "AMD Instinct MI250X"),
    ("Intel(R) Data Center GPU Max 1550", "Intel Data Center GPU Max 1550"),
    ("Intel(R) Arc(TM) A770 Graphics", "Intel Arc A770 Graphics"),
    ("Apple M1", "Apple M1"),
    ("M2 Pro", "Apple M2 Pro"),
    ("Some Accelerator 9000", "Some Accelerator 9000"),
])
def test_normalize_name(raw, expected):
    assert normalize_name(raw) == expected
    assert normalize_name(expected) == expected  # idempotent


def test_same_hardware_from_different_sources_compares_equal():
    assert normalize_name("GeForce RTX 3090") == normalize_name("NVIDIA GeForce RTX 3090") \
        == normalize_name("NVIDIA RTX 3090")
    assert normalize_name("Tesla V100-SXM2-16GB") == normalize_name("NVIDIA V100 SXM2 16GB")
    assert normalize_name("NVIDIA A100-SXM4-40GB") != normalize_name("NVIDIA A100-SXM4-80GB")


@pytest.mark.parametrize("raw, expected", [
    ("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", "Intel Core i7-8700K"),
    ("Intel(R) Core(TM) i7-10750H @2.60 GHz", "Intel Core i7-10750H"),
    ("Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", "Intel Xeon E5-2680 v4"),
    ("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "Intel Xeon Platinum 8375C"),
    ("Intel(R) Core(TM)2 Duo CPU     E8400  @ 3.00GHz", "Intel Core2 Duo E8400"),
    ("AMD Ryzen 5 3600 6-Core Processor", "AMD Ryzen 5 3600"),
    ("AMD EPYC 7763 64-Core Processor", "AMD EPYC 7763"),
    ("AMD Ryzen 7 PRO 4750U with Radeon Graphics", "AMD Ryzen 7 PRO 4750U"),
    ("AMD EPYC", "AMD EPYC"),
    ("Apple M1", "Apple M1"),
    ("Neoverse-N1", "Neoverse-N1"),
])
def test_cpu_name(raw, expected):
    assert cpu_name(raw) == expected
    assert cpu_name(expected) == expected


def test_synthetic_devices_use_the_normalizer():
    for _kind, raw, normalized, _memory, _cc in synthetic.DEVICES:
        if raw:
            assert normalize_name(raw) == normalized


def test_group_accelerators_counts_identical_devices_in_first_seen_order():
    a100 = {"kind": "cuda", "vendor": "NVIDIA", "name": "NVIDIA A100-SXM4-40GB", "memory_bytes": 40 * 2**30,
            "driver_version": "550.54.15", "compute_capability": "8.0", "power_limit_w": 400.0,
            "pcie_id": "10de:20b0", "cores": None}
    t4 = {"kind": "cuda", "name": "Tesla T4", "memory_bytes": 15 * 2**30, "compute_capability": "7.5"}
    grouped = group_accelerators([dict(a100), dict(t4), dict(a100), dict(a100, count=7), dict(a100)])
    assert grouped == [
        {"kind": "cuda", "vendor": "NVIDIA", "name": "NVIDIA A100-SXM4-40GB", "normalized_name": "NVIDIA A100 SXM4 40GB",
         "count": 4, "memory_bytes": 40 * 2**30, "driver_version": "550.54.15", "compute_capability": "8.0",
         "power_limit_w": 400.0, "pcie_id": "10de:20b0"},
        {"kind": "cuda", "vendor": "NVIDIA", "name": "Tesla T4", "normalized_name": "NVIDIA T4", "count": 1,
         "memory_bytes": 15 * 2**30, "compute_capability": "7.5"},
    ]
    assert list(grouped[0]) == ["kind", "vendor", "name", "normalized_name", "count", "memory_bytes",
                                "driver_version", "compute_capability", "power_limit_w", "pcie_id"]


def test_devices_that_differ_are_not_grouped():
    one = {"kind": "cuda", "name": "NVIDIA GeForce RTX 3090", "memory_bytes": 24 * 2**30, "power_limit_w": 350.0}
    grouped = group_accelerators([one, dict(one, power_limit_w=300.0)])
    assert [(g["power_limit_w"], g["count"]) for g in grouped] == [(350.0, 1), (300.0, 1)]


def test_unknown_vendor_is_left_out():
    (entry,) = group_accelerators([{"kind": "other", "name": "Some Accelerator 9000"}])
    assert entry == {"kind": "other", "name": "Some Accelerator 9000", "normalized_name": "Some Accelerator 9000",
                     "count": 1}


def test_pcie_id_from_nvml_combined_id():
    assert pcie_id(0x250710DE) == "10de:2507"
    assert pcie_id(0x20B010DE) == "10de:20b0"


def test_framework_devices_match_torch():
    import torch

    found = devices.framework_devices("torch")
    cuda = [d for d in found if d["kind"] in ("cuda", "rocm")]
    assert len(cuda) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    assert devices.framework_devices("jax") == []
