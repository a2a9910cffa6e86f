/* A stand-in for libnvidia-ml.so.1: the NVML entry points agent/gpu_discovery
 * calls, answering from an environment variable instead of a driver, so unit
 * and end-to-end tests can give an agent any GPUs they like
 * (CADRE_NVML_LIB=/path/to/libfake-nvml.so).
 *
 *   CADRE_FAKE_NVML_GPUS       ';'-separated GPUs, each "model|memoryMiB|uuid|peers"
 *                              where peers (optional) is a ','-separated list
 *                              with one entry per NVLink: a GPU index, or
 *                              "nvswitch" for a link to an NVSwitch (GPUs
 *                              that both have one reach each other).
 *                              Unset or empty: no GPUs.
 *   CADRE_FAKE_NVML_FAIL_INIT  non-empty and not "0": nvmlInit_v2 fails with
 *                              NVML_ERROR_DRIVER_NOT_LOADED (9).
 *
 * GPU i has PCI bus id 00000000:XX:00.0 with XX = 0x10 + i. The environment is
 * read when the library goes from uninitialised to initialised; a malformed
 * spec makes nvmlInit_v2 fail with NVML_ERROR_UNKNOWN and say why on stderr.
 * Thread-safe like NVML: init and shutdown are counted under a lock, and the
 * inventory does not change while initialised. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

typedef int nvmlReturn_t;
typedef int nvmlEnableState_t;
typedef int nvmlGpuP2PCapsIndex_t;
typedef int nvmlGpuP2PStatus_t;

enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
  NVML_ERROR_DRIVER_NOT_LOADED = 9,
  NVML_ERROR_UNKNOWN = 999,
};
enum { NVML_P2P_CAPS_INDEX_NVLINK = 2, NVML_P2P_STATUS_OK = 0, NVML_P2P_STATUS_NOT_SUPPORTED = 5 };

#define MAX_GPUS 64
#define MAX_LINKS 18 /* NVML_NVLINK_MAX_LINKS */
#define TEXT_SIZE 96 /* NVML_DEVICE_{NAME,UUID}_V2_BUFFER_SIZE */
#define SWITCH_PEER (-1)

typedef struct {
  unsigned long long total, free, used;
} nvmlMemory_t;

typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;

struct nvmlDevice_st {
  unsigned index;
  char name[TEXT_SIZE];
  char uuid[TEXT_SIZE];
  unsigned long long memory_mib;
  int links[MAX_LINKS]; /* peer index, or SWITCH_PEER */
  unsigned n_links;
};
typedef struct nvmlDevice_st* nvmlDevice_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned init_count;
static struct nvmlDevice_st gpus[MAX_GPUS];
static unsigned n_gpus;

static int fail(unsigned entry, const char* what, const char* text) {
  fprintf(stderr, "fake_nvml: CADRE_FAKE_NVML_GPUS entry %u: %s \"%s\"\n", entry + 1, what, text);
  return 0;
}

/* Copies [begin, end) into a NUL-terminated buffer without surrounding blanks. */
static int copy_trimmed(const char* begin, const char* end, char* out, size_t size) {
  while (begin < end && (*begin == ' ' || *begin == '\t')) ++begin;
  while (end > begin && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n')) --end;
  if ((size_t)(end - begin) >= size) return 0;
  memcpy(out, begin, (size_t)(end - begin));
  out[end - begin] = '\0';
  return 1;
}

static int parse_peers(unsigned entry, char* text, struct nvmlDevice_st* gpu) {
  char* save = NULL;
  for (char* tok = strtok_r(text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char peer[32];
    if (!copy_trimmed(tok, tok + strlen(tok), peer, sizeof peer)) return fail(entry, "peer too long:", tok);
    if (peer[0] == '\0') continue;
    if (gpu->n_links == MAX_LINKS) return fail(entry, "more than 18 NVLinks in", text);
    if (strcmp(peer, "nvswitch") == 0) {
      gpu->links[gpu->n_links++] = SWITCH_PEER;
      continue;
    }
    char* end = NULL;
    unsigned long n = strtoul(peer, &end, 10);
    if (end == peer || *end != '\0' || n >= MAX_GPUS) return fail(entry, "peer is not a GPU index or nvswitch:", peer);
    gpu->links[gpu->n_links++] = (int)n;
  }
  return 1;
}

/* One "model|memoryMiB|uuid|peers" entry, modified in place. */
static int parse_gpu(unsigned entry, char* text, struct nvmlDevice_st* gpu) {
  char* fields[4] = {text, NULL, NULL, NULL};
  unsigned n = 1;
  for (char* p = text; *p; ++p) {
    if (*p != '|') continue;
    if (n == 4) return fail(entry, "more than 4 '|'-separated fields in", text);
    *p = '\0';
    fields[n++] = p + 1;
  }
  if (n < 3) return fail(entry, "expected model|memoryMiB|uuid[|peers], got", text);
  memset(gpu, 0, sizeof *gpu);
  char memory[32];
  if (!copy_trimmed(fields[0], fields[0] + strlen(fields[0]), gpu->name, sizeof gpu->name) || gpu->name[0] == '\0')
    return fail(entry, "model is empty or too long:", fields[0]);
  if (!copy_trimmed(fields[1], fields[1] + strlen(fields[1]), memory, sizeof memory))
    return fail(entry, "memory is not a number of MiB:", fields[1]);
  char* end = NULL;
  gpu->memory_mib = strtoull(memory, &end, 10);
  if (memory[0] < '0' || memory[0] > '9' || *end != '\0') return fail(entry, "memory is not a number of MiB:", memory);
  if (!copy_trimmed(fields[2], fields[2] + strlen(fields[2]), gpu->uuid, sizeof gpu->uuid) || gpu->uuid[0] == '\0')
    return fail(entry, "uuid is empty or too long:", fields[2]);
  return fields[3] ? parse_peers(entry, fields[3], gpu) : 1;
}

/* Fills gpus[] from the environment; 0 (and a message) if it is malformed. */
static int load_inventory(void) {
  n_gpus = 0;
  const char* env = getenv("CADRE_FAKE_NVML_GPUS");
  if (!env || !*env) return 1;
  char* spec = strdup(env);
  if (!spec) return 0;
  int ok = 1;
  char* save = NULL;
  for (char* entry = strtok_r(spec, ";", &save); ok && entry; entry = strtok_r(NULL, ";", &save)) {
    if (strspn(entry, " \t\r\n") == strlen(entry)) continue; /* "a;;b" or a trailing ';' */
    if (n_gpus == MAX_GPUS) {
      fprintf(stderr, "fake_nvml: CADRE_FAKE_NVML_GPUS lists more than %d GPUs\n", MAX_GPUS);
      ok = 0;
    } else if (parse_gpu(n_gpus, entry, &gpus[n_gpus])) {
      gpus[n_gpus].index = n_gpus;
      ++n_gpus;
    } else {
      ok = 0;
    }
  }
  free(spec);
  for (unsigned i = 0; ok && i < n_gpus; ++i)
    for (unsigned l = 0; l < gpus[i].n_links; ++l) {
      int peer = gpus[i].links[l];
      if (peer != SWITCH_PEER && ((unsigned)peer >= n_gpus || (unsigned)peer == i)) {
        fprintf(stderr, "fake_nvml: CADRE_FAKE_NVML_GPUS entry %u: peer %d is not another listed GPU\n", i + 1, peer);
        ok = 0;
      }
    }
  if (!ok) n_gpus = 0;
  return ok;
}

static int valid(nvmlDevice_t d) {
  return init_count > 0 && (uintptr_t)d >= (uintptr_t)gpus && (uintptr_t)d < (uintptr_t)(gpus + n_gpus) &&
         ((uintptr_t)d - (uintptr_t)gpus) % sizeof gpus[0] == 0;
}

static void fill_pci(nvmlPciInfo_t* pci, unsigned bus) {
  memset(pci, 0, sizeof *pci);
  pci->bus = bus;
  pci->pciDeviceId = 0x233010DE;
  snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "0000:%02X:00.0", bus);
  snprintf(pci->busId, sizeof pci->busId, "00000000:%02X:00.0", bus);
}

static nvmlReturn_t copy_text(const char* text, char* out, unsigned length) {
  if (!out) return NVML_ERROR_INVALID_ARGUMENT;
  if (strlen(text) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  memcpy(out, text, strlen(text) + 1);
  return NVML_SUCCESS;
}

static int has_switch_link(nvmlDevice_t d) {
  for (unsigned l = 0; l < d->n_links; ++l)
    if (d->links[l] == SWITCH_PEER) return 1;
  return 0;
}

EXPORT nvmlReturn_t nvmlInit_v2(void) {
  const char* fail_init = getenv("CADRE_FAKE_NVML_FAIL_INIT");
  if (fail_init && *fail_init && strcmp(fail_init, "0") != 0) return NVML_ERROR_DRIVER_NOT_LOADED;
  pthread_mutex_lock(&lock);
  nvmlReturn_t r = NVML_SUCCESS;
  if (init_count == 0 && !load_inventory()) r = NVML_ERROR_UNKNOWN;
  if (r == NVML_SUCCESS) ++init_count;
  pthread_mutex_unlock(&lock);
  return r;
}

EXPORT nvmlReturn_t nvmlInit(void) { return nvmlInit_v2(); }

EXPORT nvmlReturn_t nvmlShutdown(void) {
  pthread_mutex_lock(&lock);
  nvmlReturn_t r = init_count > 0 ? NVML_SUCCESS : NVML_ERROR_UNINITIALIZED;
  if (init_count > 0) --init_count;
  pthread_mutex_unlock(&lock);
  return r;
}

EXPORT const char* nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    default: return "Unknown Error";
  }
}

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  if (init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  *count = n_gpus;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int* count) { return nvmlDeviceGetCount_v2(count); }

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  if (init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (!device || index >= n_gpus) return NVML_ERROR_INVALID_ARGUMENT;
  *device = &gpus[index];
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t* device) {
  return nvmlDeviceGetHandleByIndex_v2(index, device);
}

EXPORT nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t device, unsigned int* index) {
  if (!valid(device) || !index) return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
  *index = device->index;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  if (!valid(device)) return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
  return copy_text(device->name, name, length);
}

EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length) {
  if (!valid(device)) return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
  return copy_text(device->uuid, uuid, length);
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory) {
  if (!valid(device) || !memory) return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
  memory->total = device->memory_mib * 1024ULL * 1024ULL;
  memory->used = 0;
  memory->free = memory->total;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t* pci) {
  if (!valid(device) || !pci) return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
  fill_pci(pci, 0x10 + device->index);
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned int link, nvmlEnableState_t* active) {
  if (!valid(device) || !active) return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
  if (device->n_links == 0) return NVML_ERROR_NOT_SUPPORTED; /* a PCIe card */
  if (link >= MAX_LINKS) return NVML_ERROR_INVALID_ARGUMENT;
  *active = link < device->n_links;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t device, unsigned int link, nvmlPciInfo_t* pci) {
  if (!valid(device) || !pci) return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
  if (device->n_links == 0) return NVML_ERROR_NOT_SUPPORTED;
  if (link >= device->n_links) return NVML_ERROR_INVALID_ARGUMENT;
  int peer = device->links[link];
  fill_pci(pci, peer == SWITCH_PEER ? 0xF0 + link % 4 : 0x10 + (unsigned)peer); /* four switches, as on HGX */
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetP2PStatus(nvmlDevice_t d1, nvmlDevice_t d2, nvmlGpuP2PCapsIndex_t index,
                                           nvmlGpuP2PStatus_t* status) {
  if (!valid(d1) || !valid(d2) || !status) return init_count ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNINITIALIZED;
  int linked = has_switch_link(d1) && has_switch_link(d2);
  for (unsigned l = 0; l < d1->n_links; ++l)
    if (d1->links[l] == (int)d2->index) linked = 1;
  *status = index == NVML_P2P_CAPS_INDEX_NVLINK && linked ? NVML_P2P_STATUS_OK : NVML_P2P_STATUS_NOT_SUPPORTED;
  return NVML_SUCCESS;
}
