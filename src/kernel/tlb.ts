// TLB shootdown against get_user_pages_fast(), x86. gup-fast walks the page
// tables with interrupts disabled; a thread that zaps PTEs of the same mm
// flushes the other CPUs' TLBs with an IPI and waits for every CPU to run it
// (flush_tlb_mm_range() -> native_flush_tlb_others() ->
// smp_call_function_many(..., wait = true)), which a CPU with interrupts
// off does only after it re-enables them. So on x86 unmap_mapping_range()
// returns only after any gup-fast walk that could have read a zapped PTE
// has finished, reference and re-check included. (mm/gup.c's comment: "With
// interrupts disabled, we block page table pages from being freed from under
// us"; the IPI wait is arch/x86/mm/tlb.c, v4.x, from memory, not re-read.)
//
// Modelled: one mm (the scenario's process), every thread on its own CPU,
// always in mm_cpumask; the flusher's busy-wait for the IPI is a sleep that
// the interrupts-on of the walk ends.
//
// `setup.tlb_flush: hypercall` models a paravirt guest whose remote flush is a
// hypercall that interrupts no CPU, so nothing waits for the walk. Sources
// (notes/kernel-pmd-v4.14plus.md): Hyper-V, arch/x86/hyperv/mmu.c
// hyperv_setup_mmu_ops() (a 4.19-era copy, store id 39165039000):
// `pv_mmu_ops.flush_tlb_others = hyperv_flush_tlb_others;` when the host sets
// HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED, which issues
// HVCALL_FLUSH_VIRTUAL_ADDRESS_{SPACE,LIST} and only falls back to
// native_flush_tlb_others() if the hypercall fails (2ffd9e33ce4a "x86/hyper-v:
// Use hypercall for remote TLB flush", v4.14; id verified through Fixes: tags);
// Xen PV the same way (a hypercall), as "x86, mm, gup: prevent get_page() race
// with munmap in paravirt guest" (4.9.y, store id 37795315512) says: "when TLB
// flush is done by a hypercall, e.g. in a Xen PV guest, there is no blocking
// thanks to disabled interrupts". (Page-table pages are then freed through RCU,
// 9e52fc2b50de, v4.14, which the model does not need: it never frees one under
// a walk.) Not modelled: lazy TLB mode, KVM's PV flush (it skips only preempted
// vCPUs), other architectures.
import type { SimThread } from '../sim/engine.js';
import type { KernelState } from './state.js';

export class TlbState {
  /** threads inside a local_irq_disable() section of gup-fast */
  readonly irqOff = new Set<SimThread>();
  /** the shared object standing for those CPUs' interrupt state */
  readonly obj: number;
  /** flushers waiting for an IPI to be taken */
  readonly waiters: SimThread[] = [];
  /** setup.tlb_flush: hypercall — remote flushes send no IPI and wait for no CPU (set before any thread runs) */
  hypercall = false;
  constructor(k: KernelState) {
    this.obj = k.sim.obj();
  }
}

const states = new WeakMap<KernelState, TlbState>();

/** The machine's TLB-shootdown state (created with the machine, so its object id is fixed). */
export function tlbState(k: KernelState): TlbState {
  let s = states.get(k);
  if (s === undefined) states.set(k, (s = new TlbState(k)));
  return s;
}

// include/linux/irqflags.h local_irq_disable(): this CPU takes no IPI until local_irq_enable()
export function localIrqDisable(k: KernelState): void {
  const s = tlbState(k);
  k.sim.touch(s.obj, true);
  s.irqOff.add(k.sim.me);
  k.sim.me.preempt++;
}

// include/linux/irqflags.h local_irq_enable(): pending IPIs run now; flushers waiting for them go on
export function localIrqEnable(k: KernelState): void {
  const s = tlbState(k);
  k.sim.touch(s.obj, true);
  s.irqOff.delete(k.sim.me);
  k.sim.me.preempt--;
  for (const t of s.waiters.splice(0)) k.sim.unblock(t);
}

// arch/x86/mm/tlb.c flush_tlb_mm_range() for a zap of the mm's PTEs, v4.x: IPI every other
// CPU of the mm and wait until each has run the flush (smp_call_function_many(wait)).
// Called after the PTEs are cleared and the PTE lock dropped (tlb_finish_mmu()).
// With setup.tlb_flush: hypercall, pv_mmu_ops.flush_tlb_others is a hypercall
// (hyperv_flush_tlb_others(), xen_flush_tlb_others()): the remote TLBs are flushed without
// interrupting those CPUs, so a CPU with interrupts off does not hold the flusher up.
export function* flushTlbMmRange(k: KernelState): Generator<void, void, void> {
  const sim = k.sim;
  const s = tlbState(k);
  if (s.hypercall) return;
  // (the check runs in the zapping step itself: no extra scheduling point when no CPU has interrupts off)
  for (;;) {
    sim.touch(s.obj, false);
    const off = [...s.irqOff].filter((t) => t !== sim.me);
    if (off.length === 0) return;
    const what = `flush_tlb_mm_range: waits for ${off.map((t) => t.name).join(', ')} to take the IPI (interrupts off in get_user_pages_fast())`;
    s.waiters.push(sim.me);
    sim.block({ what, condition: () => [...s.irqOff].every((t) => t === sim.me) });
    yield;
  }
}
