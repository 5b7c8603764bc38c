//! NP603 gateway-host-shared: the Hyper-V host that runs an NVGRE gateway
//! also runs tenant VMs.
//!
//! Seed 004: several gateways may share one Hyper-V host, but a host that
//! runs a gateway runs no other VMs ("ゲートウェイを配置するホストには
//! ゲートウェイ以外のVMを配置できない"). The gateway host decapsulates every
//! tenant's NVGRE traffic; a tenant VM beside it is outside the supported
//! configuration. Hyper-V host names are plain names, compared without
//! regard to case, as Windows host names are. Each host is reported once,
//! however many gateways it runs.

use crate::diagnostic::Diagnostic;
use crate::model::{GatewayKind, HostKind, Model};
use crate::registry::Code;
use crate::rules::util::some_names;
use crate::span::Span;
use std::collections::BTreeMap;

/// How many VMs a finding names before it says "and N more".
const SHOWN: usize = 3;

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    // Gateways by Hyper-V host (lower case), in declaration order.
    let mut hosts: BTreeMap<String, Vec<(Span, String, String)>> = BTreeMap::new();
    for g in &model.gateways {
        if let GatewayKind::Vnet {
            hyperv_host: Some(host),
            ..
        } = &g.kind
        {
            hosts
                .entry(host.value.to_ascii_lowercase())
                .or_default()
                .push((
                    host.span,
                    host.value.clone(),
                    format!("{}.{}", model.site(g.site).decl.name, g.decl.name),
                ));
        }
    }
    for (key, gateways) in &hosts {
        let Some((span, host, first)) = gateways.first() else {
            continue;
        };
        let mut vms: Vec<(Span, String)> = model
            .hosts
            .iter()
            .filter(|h| h.kind == HostKind::Vm)
            .filter_map(|h| {
                let on = h.hyperv_host.as_ref()?;
                (on.value.to_ascii_lowercase() == *key).then(|| {
                    (
                        on.span,
                        format!("{}.{}", model.site(h.site).decl.name, h.decl.name),
                    )
                })
            })
            .collect();
        if vms.is_empty() {
            continue;
        }
        vms.sort();
        let names = some_names(vms.iter().map(|(_, n)| n.as_ref()), SHOWN);
        let noun = if vms.len() == 1 { "VM" } else { "VMs" };
        let gw_names: Vec<String> = gateways.iter().map(|(_, _, n)| format!("`{n}`")).collect();
        let gw_noun = if gateways.len() == 1 {
            "gateway"
        } else {
            "gateways"
        };
        let mut d = Diagnostic::new(
            Code::NP603,
            format!(
                "Hyper-V host `{host}` runs {gw_noun} {} and also tenant {noun} {names}",
                gw_names.join(", "),
            ),
            *span,
            format!("runs gateway `{first}`"),
        );
        for (span, _, name) in gateways.iter().skip(1) {
            d = d.with_label(*span, format!("runs gateway `{name}`"));
        }
        for (span, _) in vms.iter().take(SHOWN) {
            d = d.with_label(*span, "tenant VM on the gateway's host");
        }
        out.push(d.with_help(format!(
            "a host that runs NVGRE gateways runs nothing else: move the tenant {noun} off \
             `{host}`, or run the {gw_noun} on a dedicated host"
        )));
    }
}
