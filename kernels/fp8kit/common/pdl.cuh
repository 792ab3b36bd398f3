// Programmatic dependent launch (PTX griddepcontrol, sm_90). A kernel launched with the
// programmatic-stream-serialization attribute may be scheduled while the kernel before it in the
// stream still runs, which hides the launch latency that dominates small problems. Without the
// attribute both instructions are no-ops, so a kernel can always contain them.
#pragma once

namespace fp8kit {

// Blocks until every grid this one depends on has completed and its memory is visible. Call it
// before the first global memory access: the previous kernel may still read what this one
// writes, or write what it reads.
__device__ __forceinline__ void wait_for_prior_grids() { asm volatile("griddepcontrol.wait;" ::: "memory"); }

// Lets the next kernel in the stream be scheduled once every block of this grid has called it
// (or exited). Its blocks then wait in wait_for_prior_grids until this grid completes, so where
// the call stands affects only when they start, never correctness.
__device__ __forceinline__ void allow_dependent_launch() { asm volatile("griddepcontrol.launch_dependents;" :::); }

// Where a kernel's memory work may begin. Releasing the next kernel only after the wait keeps at
// most one kernel of a chain scheduled ahead. Loads in inline asm must be asm volatile, or the
// compiler may hoist them above it (tests/cpu/test_quant_kernels.cpp checks the PTX).
__device__ __forceinline__ void wait_prior_grid_and_release_next() {
  wait_for_prior_grids();
  allow_dependent_launch();
}

}  // namespace fp8kit
