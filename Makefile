# The hypervisor's build, run and test entry points.
#
#   make [ARCH=aarch64|x86_64] [A=apps/hv] [VM=configs/vms/x.toml,...] [SMP=4] [LOG=warn] [MODE=release]
#        [FEATURES=a,b] [MEM=2G] [VIRT=on] [POWEROFF_WHEN_IDLE=n]  build | run | justrun | test | check | debug | clean
#
# Every target first runs scripts/setup.sh, which installs the toolchain and
# QEMU when they are missing (and says so).

ARCH     ?= aarch64
A        ?= apps/hv
SMP      ?= 4
LOG      ?= warn
MODE     ?= release
MEM      ?= 2G
# QEMU's virtualization extensions (EL2); off boots the kernel at EL1.
VIRT     ?= on
FEATURES ?=
QEMU_ARGS ?=
# y: the hypervisor powers the machine off once no VM is left (the tests'
# choice); n: it keeps running and waits for management commands.
POWEROFF_WHEN_IDLE ?= n

APP      := $(notdir $(A))
comma    := ,
empty    :=
space    := $(empty) $(empty)
# VM configs built into the hypervisor (A=apps/hv), comma-separated; a
# relative path is relative to the repository root, an absolute one works
# from anywhere.
ifeq ($(ARCH),x86_64)
  VM     ?= configs/vms/testguest-x86.toml
else
  VM     ?= configs/vms/linux-aarch64.toml
endif
VM_ABS   := $(foreach v,$(subst $(comma), ,$(VM)),$(abspath $(v)))
GUEST_BIN := target/guests/testguest.bin
ROOT     := $(CURDIR)

ifeq ($(ARCH),aarch64)
  PLATFORM ?= aarch64-qemu-virt
  TARGET   := aarch64-unknown-none-softfloat
  OBJCOPY  := aarch64-linux-gnu-objcopy
  # QEMU loads a raw arm64 Image.
  OBJCOPY_ARGS := -O binary
  BIN_SUFFIX := .bin
  QEMU     := qemu-system-aarch64
  QEMU_MACHINE := -M virt,virtualization=$(VIRT),gic-version=3 -cpu cortex-a72
  # A failure exit (status 1) through Arm semihosting (axhal::power).
  QEMU_ARCH_ARGS := -semihosting
  ARCH_RUSTFLAGS :=
else ifeq ($(ARCH),x86_64)
  PLATFORM ?= x86_64-qemu-q35
  TARGET   := x86_64-unknown-none
  OBJCOPY  := objcopy
  # QEMU loads the ELF itself (PVH entry); the copy only drops the symbols
  # and debug info.
  OBJCOPY_ARGS := --strip-all
  BIN_SUFFIX := .elf
  QEMU     := qemu-system-x86_64
  # qboot, QEMU's minimal firmware, enters the kernel's PVH entry directly
  # and prints nothing (SeaBIOS resets and clears the serial terminal).
  QEMU_MACHINE := -M q35 -cpu max -bios qboot.rom
  # A failure exit (status 1) through isa-debug-exit (axhal::power).
  QEMU_ARCH_ARGS := -device isa-debug-exit,iobase=0xf4,iosize=0x04
  # A non-PIE image at its link address (the PVH loader does no relocation).
  ARCH_RUSTFLAGS := -C relocation-model=static
else
  $(error ARCH=$(ARCH) is not supported (aarch64 and x86_64 are))
endif

OUT_DIR  := target/$(TARGET)/$(MODE)
ELF      := $(OUT_DIR)/$(APP)
BIN      := $(OUT_DIR)/$(APP)$(BIN_SUFFIX)
LINKER   := platforms/$(PLATFORM)/linker.ld

# A fresh clone has no toolchain choice yet: make it before reading it.
ifeq ($(wildcard target/toolchain.mk),)
  $(info $(shell bash scripts/setup.sh 1>&2))
endif
-include target/toolchain.mk
CARGO ?= cargo
export PATH := $(dir $(CARGO)):$(PATH)
export RUSTC RUSTDOC
# build-std and axaddrspace (const_trait_impl) need unstable features on the
# stable toolchain, as the Linux kernel's Rust build does.
export RUSTC_BOOTSTRAP := 1

BUILD_STD := -Zbuild-std=core,alloc,compiler_builtins -Zbuild-std-features=compiler-builtins-mem
CROSS_ENV := RUSTC_BOOTSTRAP=1 AX_PLATFORM=$(PLATFORM) AX_SMP=$(SMP) AX_LOG=$(LOG) \
	AX_POWEROFF_WHEN_IDLE=$(POWEROFF_WHEN_IDLE) \
	AX_VM_CONFIGS="$(subst $(space),$(comma),$(strip $(VM_ABS)))" \
	RUSTFLAGS="-C link-arg=-T$(ROOT)/$(LINKER) -C linker=ld.lld-19 $(ARCH_RUSTFLAGS)"
CARGO_MODE := $(if $(filter release,$(MODE)),--release,)
CARGO_FEATURES := $(if $(FEATURES),--features $(FEATURES),)

# Exactly the devices the project means QEMU to have: -nodefaults drops the
# implicit ones (the network card, whose option ROM comes from the optional
# ipxe-qemu package, and any default drive or display); the console is the
# board's UART on stdio, muxed with QEMU's monitor (Ctrl-A c).
QEMU_DEVICES := -nodefaults -nographic -serial mon:stdio -nic none
QEMU_CMD := $(QEMU) $(QEMU_MACHINE) -smp $(SMP) -m $(MEM) $(QEMU_DEVICES) $(QEMU_ARCH_ARGS) \
	-kernel $(BIN) $(QEMU_ARGS)

# Crates tested on the build machine (everything but the kernel binaries).
HOST_CRATES := axconfig axlog axalloc axhal axruntime axsync axvcpu axvmconfig axdevice arm_vcpu x86_vcpu axvm axvmm qemu-runner


.PHONY: all setup guests build run justrun debug test unittest qemutest fuzzsmoke fuzz-host fuzz check bench print-bin clean

all: build

setup:
	@bash scripts/setup.sh

build: setup $(if $(filter hv,$(APP)),guests)
	$(CROSS_ENV) $(CARGO) build -p $(APP) --target $(TARGET) $(CARGO_MODE) $(CARGO_FEATURES) $(BUILD_STD)
	$(OBJCOPY) $(OBJCOPY_ARGS) $(ELF) $(BIN)
	@echo "built $(BIN) ($$(( $$(stat -c %s $(BIN)) / 1024 )) KiB)"

run: build justrun

# The guests built from this repo (used by the shipped VM configs).
# ARCH=x86_64: the x86 test guest (once guests/testguest-x86 exists) and
# the tiny guest of the x86 QEMU tests (tests/x86-miniguest).
guests: setup
ifeq ($(ARCH),x86_64)
	@bash tests/x86-miniguest/build.sh $(ROOT)/target/guests/miniguest-x86.bin
	@if [ -f guests/testguest-x86/build.sh ]; then \
		bash guests/testguest-x86/build.sh $(ROOT)/target/guests/testguest-x86.bin; fi
else
	@TESTGUEST_CARGO=$(CARGO) TESTGUEST_RUSTC=$(RUSTC) bash guests/testguest/build.sh $(ROOT)/$(GUEST_BIN)
	@bash guests/linux/build.sh $(ROOT)/target/guests/linux
endif

# Runs the image built last, without building (the QEMU test runner uses it).
# Prints QEMU's exit status (make itself only says "Error 2").
justrun:
	@echo "$(QEMU_CMD)"
	@$(QEMU_CMD); rc=$$?; echo "QEMU exited with status $$rc"; exit $$rc

debug: build
	@echo "QEMU waits for gdb on localhost:1234 (gdb-multiarch $(ELF) -ex 'target remote :1234')"
	$(QEMU_CMD) -s -S

# axvmconfig/bake: the tests of the configs written out as Rust (the build
# script's form of them).
unittest: setup
	$(CARGO) test $(addprefix -p ,$(HOST_CRATES)) --features axvmconfig/bake
	python3 scripts/test_mkinitramfs.py

# The boot tests of every architecture; `make ARCH=aarch64 qemutest` (ARCH
# given on the command line) runs one architecture's.
ifeq ($(origin ARCH),command line)
  TEST_ARCHES := $(ARCH)
else
  TEST_ARCHES := aarch64 x86_64
endif

qemutest: setup guests
ifneq ($(filter aarch64,$(TEST_ARCHES)),)
	# The hypervisor's config checks (both architectures' keys).
	bash scripts/test-config-errors.sh
	bash scripts/outside-config.sh
endif
	bash scripts/without-optional-qemu-data.sh $(CARGO) run -q -p qemu-runner --release -- \
		$(foreach a,$(TEST_ARCHES),tests/qemu/$(a)/*.toml)
ifneq ($(filter x86_64,$(TEST_ARCHES)),)
	# The SVM vCPU running two small guests under QEMU's emulation.
	bash scripts/without-optional-qemu-data.sh bash modules/x86_vcpu/smoke/run.sh
endif

# Every host fuzz target (fuzz/: decoders and device models a guest or a
# config reaches) for a few seconds from its committed corpus: catches a
# regression the corpus already covers. `make fuzz-host` fuzzes for real.
FUZZ_SMOKE_SECONDS ?= 10
fuzzsmoke:
	bash scripts/fuzz-host.sh $(FUZZ_SMOKE_SECONDS)

# Long host fuzzing: FUZZ_SECONDS per target (default 30 minutes), new
# inputs added to the committed corpus (minimised); FUZZ_TARGETS picks some.
FUZZ_SECONDS ?= 1800
fuzz-host:
	UPDATE_CORPUS=1 bash scripts/fuzz-host.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

test: unittest fuzzsmoke qemutest

check: setup guests
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(addprefix -p ,$(HOST_CRATES)) --all-targets --all-features -- -D warnings
	$(CROSS_ENV) $(CARGO) clippy -p helloworld -p crashtest -p hv --target $(TARGET) $(BUILD_STD) -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --all-features $(addprefix -p ,$(HOST_CRATES))

# Boot time of the host kernel (wall clock, median of 5) and image size,
# the hypervisor's size without guests, the per-exit costs (deterministic,
# QEMU -icount), Linux boot time under the hypervisor against direct
# (alternating pairs), (aarch64) a VM's timer interrupt latency alone and
# beside a flooding VM (scripts/bench-noisy.sh, wall clock) and the
# hypervisor instructions on its CPU per timer interrupt, alone and beside
# the flood (scripts/bench-noisy-icount.py, deterministic); then the table of all
# figures against the saved baseline (scripts/bench-report.py;
# target/bench/ARCH.json).
bench: setup guests
	@rm -f target/bench/$(ARCH).json
	@bash scripts/bench.sh ARCH=$(ARCH) A=apps/helloworld SMP=$(SMP) LOG=$(LOG) MODE=$(MODE)
	@bash scripts/bench-size.sh $(ARCH)
ifeq ($(ARCH),x86_64)
	@bash scripts/bench-exits-x86.sh
else
	@bash scripts/bench-exits.sh
	@python3 scripts/bench-linux.py
	@python3 scripts/bench-linux-work.py
	@python3 scripts/profile-linux.py
	@bash scripts/bench-noisy.sh
	@python3 scripts/bench-noisy-icount.py
endif
	@python3 scripts/bench-report.py $(ARCH)

# The guest fuzzer (guests/testguest, VM 99) beside the test guest, one
# QEMU run per seed: make fuzz SEED=1-4,9 OPS=100000 [CLASSES=default|all|
# hvc,mmio,...|all,-dc_zva] [FUZZ_VMS=tests/configs/fuzz-shared.toml,...]
# (scripts/fuzz.py says what each run did; logs in target/fuzz/).
SEED     ?= 1
OPS      ?= 100000
CLASSES  ?= default
FUZZ_VMS ?= tests/configs/fuzz.toml,configs/vms/testguest-aarch64.toml
FUZZ_STALL_S ?= 120
GUEST_ELF := guests/testguest/target/aarch64-unknown-none-softfloat/release/testguest

fuzz: setup
ifneq ($(ARCH),aarch64)
	$(error make fuzz is aarch64 only)
endif
	$(MAKE) ARCH=aarch64 A=apps/hv SMP=4 POWEROFF_WHEN_IDLE=y VM=$(FUZZ_VMS) build
	python3 scripts/fuzz.py --seeds '$(SEED)' --ops $(OPS) --classes='$(CLASSES)' \
		--hv-elf $(OUT_DIR)/hv --guest-elf $(GUEST_ELF) --stall-s $(FUZZ_STALL_S) --log-dir target/fuzz -- \
		$(QEMU) $(QEMU_MACHINE) -smp 4 -m $(MEM) $(QEMU_DEVICES) $(QEMU_ARCH_ARGS) -kernel $(OUT_DIR)/hv$(BIN_SUFFIX)

print-bin:
	@echo $(BIN)

clean:
	$(CARGO) clean
