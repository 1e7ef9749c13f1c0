"""A small seccomp denylist for the bwrap sandbox (classic BPF, built by hand: no libseccomp needed)."""

from __future__ import annotations

import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_BIT = 0x40000000
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38

# x86_64 numbers of what checked code never needs and what could reach out of the sandbox or into its
# supervisor: ptrace and cross-process memory access (bwrap's init is the sandbox user's and dumpable),
# the kernel keyrings, bpf, perf events, userfaultfd, io_uring, module and kexec loading, file handles.
DENIED_X86_64 = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
    "add_key": 248, "request_key": 249, "keyctl": 250,
    "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320,
    "open_by_handle_at": 304, "name_to_handle_at": 303, "acct": 163, "swapon": 167, "swapoff": 168,
    "reboot": 169, "syslog": 103, "quotactl": 179, "lookup_dcookie": 212,
}


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def denylist_program() -> bytes | None:
    """The filter as bytes for `bwrap --seccomp FD`, or None on an architecture we have no table for."""
    if platform.machine() != "x86_64" or struct.calcsize("P") != 8:
        return None
    ld_abs, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    numbers = sorted(DENIED_X86_64.values())
    deny = 5 + len(numbers) + 1  # index of the final "deny" return
    prog = [
        _insn(ld_abs, 0, 0, 4),  # seccomp_data.arch
        _insn(jeq, 1, 0, AUDIT_ARCH_X86_64),
        _insn(ret, 0, 0, RET_ERRNO | ENOSYS),  # 32-bit (int 0x80) calls would bypass the table below
        _insn(ld_abs, 0, 0, 0),  # seccomp_data.nr
        _insn(jge, deny - 4 - 1, 0, X32_BIT),  # the x32 ABI, same reason
    ]
    for i, number in enumerate(numbers):
        prog.append(_insn(jeq, deny - (5 + i) - 1, 0, number))
    prog.append(_insn(ret, 0, 0, RET_ALLOW))
    prog.append(_insn(ret, 0, 0, RET_ERRNO | EPERM))
    assert len(prog) == deny + 1
    return b"".join(prog)
