#include "common/gpu.hpp"

#include "common/proto_text.hpp"

namespace cadre {

void to_proto(const NodeGpu& gpu, ::GpuDevice::Builder out) {
  out.setIndex(gpu.index);
  out.setUuid(text(gpu.uuid));
  out.setModel(text(gpu.model));
  out.setMemoryMb(gpu.memory_mb);
  auto peers = out.initNvlinkPeers(static_cast<unsigned>(gpu.nvlink_peers.size()));
  for (unsigned i = 0; i < gpu.nvlink_peers.size(); ++i) peers.set(i, gpu.nvlink_peers[i]);
}

NodeGpu from_proto(::GpuDevice::Reader r) {
  NodeGpu g;
  g.index = r.getIndex();
  g.uuid.assign(r.getUuid().cStr(), r.getUuid().size());
  g.model.assign(r.getModel().cStr(), r.getModel().size());
  g.memory_mb = r.getMemoryMb();
  for (auto p : r.getNvlinkPeers()) g.nvlink_peers.push_back(p);
  return g;
}

}  // namespace cadre
