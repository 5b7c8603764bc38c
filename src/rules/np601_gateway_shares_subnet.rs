//! NP601 gateway-shares-subnet: an NVGRE gateway sits in a virtual subnet
//! that tenant VMs use.
//!
//! The Windows Server 2012 R2 NVGRE gateway must be placed in a virtual
//! subnet of its own (seed 004: "ゲートウェイは独自のVirtual Subnetに配置する
//! 必要あり"). A gateway in the VMs' subnet is a configuration SCVMM does not
//! support, and the VMs' `.1` virtual gateway and the NVGRE gateway then
//! compete for the same subnet.

use crate::diagnostic::Diagnostic;
use crate::model::{GatewayKind, HostKind, Model, SiteId};
use crate::registry::Code;
use crate::rules::util::some_names;
use crate::span::Span;

/// How many VMs a finding names before it says "and N more".
const SHOWN: usize = 3;

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for g in &model.gateways {
        let GatewayKind::Vnet {
            subnet: Some(sub), ..
        } = g.kind
        else {
            continue;
        };
        let mut vms: Vec<(Span, &str)> = model
            .site(g.site)
            .hosts
            .iter()
            .map(|&h| model.host(h))
            .filter(|h| h.kind == HostKind::Vm && h.subnet == Some(sub))
            .map(|h| (h.decl.span, h.decl.name.as_str()))
            .collect();
        if vms.is_empty() {
            continue;
        }
        vms.sort();
        let subnet = model.subnet(sub);
        let names = some_names(vms.iter().map(|(_, n)| n.as_ref()), SHOWN);
        let noun = if vms.len() == 1 { "VM" } else { "VMs" };
        let mut d = Diagnostic::new(
            Code::NP601,
            format!(
                "gateway `{}` of `{}` sits in subnet `{}`, which also holds tenant {noun} {names}",
                g.decl.name,
                site_name(model, g.site),
                subnet.decl.name,
            ),
            g.decl.span,
            "gateway in a VM subnet",
        )
        .with_label(subnet.decl.span, "the subnet the gateway shares");
        for (span, _) in vms.iter().take(SHOWN) {
            d = d.with_label(*span, "tenant VM in the same subnet");
        }
        out.push(d.with_help(format!(
            "an NVGRE gateway needs a virtual subnet of its own: place it in a subnet no VM uses \
             (add one, for example `subnet gw-net PREFIX`, and write `in gw-net`), or move the \
             VMs out of `{}`",
            subnet.decl.name
        )));
    }
}

fn site_name(model: &Model, s: SiteId) -> &str {
    &model.site(s).decl.name
}
