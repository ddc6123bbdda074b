#!/usr/bin/env python3
"""perfsplit.py US: where a process's CPU time per request goes, from perf script.

Reads `perf script` output of a `perf record -g` (sample lines, then the stack
frames leaf first, a blank line between samples) on stdin and sorts every
sample into one class by the frames on its stack: the TCP send of the process
itself, the TCP input of the peer that loopback runs in the sender's softirq,
its own TCP receive, system call entry and exit, the VFS layer, readiness waits
(epoll, select, io_uring), io_uring's own work, the scheduler, the program and
the Go runtime. Prints each class's share and, with US (the process's CPU
microseconds per request, measured apart), its microseconds per request.
Used by bench/perfsplit.sh.
"""
import collections
import re
import sys

def classify(frames):
    """The class of one sample; frames: (symbol, dso) pairs, leaf first."""
    syms = [f[0] for f in frames]
    kern = [s for s, d in frames if 'kernel' in d]
    if not kern:
        leaf = syms[0] if syms else '?'
        if re.search(r'__libc_(read|write|recv|send)|^__GI___libc|^(read|write|__send|__libc_recv|syscall|__select|epoll_wait)$', leaf) or leaf.startswith('syscall.') or leaf in ('runtime/internal/syscall.Syscall6', 'internal/runtime/syscall.Syscall6', 'internal/runtime/syscall/linux.Syscall6'):
            return 'syscall entry/exit (user side)'
        if any(s.startswith('runtime.') for s in syms[:1]):
            return 'user: Go runtime'
        return 'user: program'
    ks = set(kern)
    if ks & {'net_rx_action', 'handle_softirqs', 'do_softirq.part.0', '__do_softirq'}:
        return 'kernel: peer TCP receive (loopback softirq)'
    if ks & {'tcp_sendmsg', 'tcp_sendmsg_locked', 'sock_sendmsg', '__sys_sendto', 'sock_write_iter', 'io_send'}:
        return 'kernel: own TCP send'
    if ks & {'tcp_recvmsg', 'tcp_recvmsg_locked', 'sock_recvmsg', 'sock_read_iter', '__sys_recvfrom', 'io_recv'}:
        return 'kernel: own TCP receive'
    if ks & {'do_epoll_wait', 'ep_poll', 'do_select', 'core_sys_select', 'do_pselect.constprop.0', 'io_cqring_wait', 'ep_send_events'}:
        if ks & {'schedule', '__schedule'}:
            return 'kernel: scheduler (sleep/wake)'
        return 'kernel: readiness wait (epoll/select/io_uring wait)'
    if ks & {'schedule', '__schedule', 'try_to_wake_up', 'futex_wake', 'futex_wait'}:
        return 'kernel: scheduler (sleep/wake)'
    if any(s.startswith('io_') for s in kern):
        return 'kernel: io_uring other'
    if ks & {'ep_poll_callback', 'epoll_ctl', 'do_epoll_ctl'}:
        return 'kernel: epoll other'
    leaf = kern[0]
    if ks & {'entry_SYSCALL_64', 'entry_SYSCALL_64_after_hwframe', 'do_syscall_64', 'syscall_exit_to_user_mode'} and len(kern) <= 3:
        return 'syscall entry/exit (kernel side)'
    if ks & {'asm_sysvec_apic_timer_interrupt', 'sysvec_apic_timer_interrupt'}:
        return 'kernel: timer interrupt'
    return ('kernel: VFS layer (read/write)' if ks & {'ksys_read','ksys_write','vfs_read','vfs_write'} else 'kernel: other (' + (kern[-3] if len(kern) >= 3 else kern[-1]) + ')')


def main():
    cnt = collections.Counter()
    frames = []
    for line in sys.stdin:
        if line.startswith(('\t', ' ')):
            m = re.match(r'\s+[0-9a-f]+\s+(\S+?)(\+0x[0-9a-f]+)?\s+\((.*)\)', line)
            if m:
                frames.append((m.group(1), m.group(3)))
            continue
        if frames:
            cnt[classify(frames)] += 1
        frames = []
    if frames:
        cnt[classify(frames)] += 1
    tot = sum(cnt.values())
    if tot == 0:
        sys.exit("perfsplit.py: no samples on stdin")
    us = float(sys.argv[1]) if len(sys.argv) > 1 else 0
    for k, v in cnt.most_common(12):
        print(f"  {100 * v / tot:5.1f}%  {us * v / tot:5.2f} µs  {k}")


if __name__ == '__main__':
    main()
