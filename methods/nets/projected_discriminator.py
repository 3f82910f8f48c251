"""A projected discriminator on a frozen ImageNet AlexNet (Sauer et al., "Projected GANs Converge
Faster", NeurIPS 2021), for training the embedded StyleGAN2 on a CPU budget.

The image is upsampled to ``feature_size`` (128 px), normalised with the ImageNet statistics and
passed through the frozen AlexNet trunk whose weights the metrics already ship
(:func:`bench.metrics.backbones.load_backbone`; no download). Three taps (after ReLU 1, 2 and 5:
64 x 31², 192 x 15², 256 x 7²) go through *fixed random* projections, as in the paper:
cross-channel mixing (a random 1x1 convolution per tap) and cross-scale mixing (each coarser mixed
map, upsampled, is added to the next finer one through a random 3x3 convolution). Only the small
per-scale discriminators on top are trained; each maps its projected features to a grid of
realness logits (hinge loss in the trainer).

Why AlexNet and not VGG16: the generator's quality is reported as FD on VGG16 features, and a
GAN whose discriminator sees the very features a metric uses can game that metric (Kynkäänniemi
et al., "The Role of ImageNet Classes in Fréchet Inception Distance", 2023). The two networks are
both ImageNet-trained, so the report also carries metrics that use neither (LPIPS-free PSNR,
attribute and identity reading by the zoo's own networks).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# torchvision alexnet().features: conv indices and shapes (see bench.metrics.backbones)
_ALEX = ((0, 3, 64, 11, 4, 2), (3, 64, 192, 5, 1, 2), (6, 192, 384, 3, 1, 1), (8, 384, 256, 3, 1, 1),
         (10, 256, 256, 3, 1, 1))
TAP_CHANNELS = (64, 192, 256)


class AlexTrunk(nn.Module):
    """The frozen AlexNet conv trunk -> features after ReLU1, ReLU2 and ReLU5."""

    def __init__(self, pretrained: bool = True):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(cin, cout, k, s, p) for _, cin, cout, k, s, p in _ALEX)
        if pretrained:
            from bench.metrics.backbones import load_backbone

            state = load_backbone("alex").state
            for conv, (idx, *_rest) in zip(self.convs, _ALEX):
                conv.weight.data.copy_(state[f"features.{idx}.weight"])
                conv.bias.data.copy_(state[f"features.{idx}.bias"])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = ((x + 1) / 2 - self.mean) / self.std
        c1, c2, c3, c4, c5 = self.convs
        f1 = F.relu(c1(x))
        f2 = F.relu(c2(F.max_pool2d(f1, 3, 2)))
        f5 = F.relu(c5(F.relu(c4(F.relu(c3(F.max_pool2d(f2, 3, 2)))))))
        return [f1, f2, f5]


def _down_block(cin: int, cout: int) -> nn.Sequential:
    # no batch norm: with reals and fakes in separate passes it normalises away the activation scale,
    # and an unbounded StyleGAN2 generator then drifts to saturated colours the heads cannot see
    return nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(cin, cout, 4, 2, 1)), nn.LeakyReLU(0.2))


class ScaleDiscriminator(nn.Module):
    """Projected features (C, s, s) -> a grid of realness logits (down-blocks to <= 4 x 4, 1x1 conv)."""

    def __init__(self, cin: int, size: int, width: int = 64):
        super().__init__()
        layers, c = [], cin
        while size > 4:
            layers.append(_down_block(c, width))
            c, size = width, size // 2
        layers.append(nn.utils.spectral_norm(nn.Conv2d(c, 1, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.net(f).flatten(1)


class ProjectedDiscriminator(nn.Module):
    """Image (B, 3, H, W) in [-1, 1] -> realness logits (B, L), one group per feature scale.

    Trainable: the per-scale discriminators only; the AlexNet trunk and the random projections are
    fixed buffers-in-effect (``requires_grad=False``), seeded by ``proj_seed`` so a resumed or
    re-created discriminator projects identically.
    """

    def __init__(self, feature_size: int = 128, proj_channels=(64, 128, 256), width: int = 64, proj_seed: int = 0,
                 pretrained: bool = True):
        super().__init__()
        self.feature_size = int(feature_size)
        self.trunk = AlexTrunk(pretrained)
        g = torch.Generator().manual_seed(int(proj_seed))
        self.ccm = nn.ModuleList(nn.Conv2d(ci, co, 1) for ci, co in zip(TAP_CHANNELS, proj_channels))
        # CSM: coarse -> fine, mixing maps of the finer tap's projected width
        self.csm = nn.ModuleList(nn.Conv2d(proj_channels[i + 1], proj_channels[i], 3, 1, 1)
                                 for i in range(len(proj_channels) - 1))
        for m in list(self.ccm) + list(self.csm):
            nn.init.kaiming_normal_(m.weight, generator=g)
            nn.init.zeros_(m.bias)
            m.requires_grad_(False)
        with torch.no_grad():
            sizes = [f.shape[-1] for f in self.trunk(torch.zeros(1, 3, self.feature_size, self.feature_size))]
        self.sizes = sizes
        self.heads = nn.ModuleList(ScaleDiscriminator(c, s, width) for c, s in zip(proj_channels, sizes))

    def project(self, x: torch.Tensor) -> list[torch.Tensor]:
        if x.shape[-1] != self.feature_size:
            x = F.interpolate(x, size=(self.feature_size, self.feature_size), mode="bilinear", align_corners=False)
        feats = [m(f) for m, f in zip(self.ccm, self.trunk(x))]
        out = [feats[-1]]
        for i in range(len(feats) - 2, -1, -1):
            up = F.interpolate(out[0], size=feats[i].shape[-2:], mode="bilinear", align_corners=False)
            out.insert(0, feats[i] + self.csm[i](up))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([h(f) for h, f in zip(self.heads, self.project(x))], 1)

    def trainable_parameters(self):
        return self.heads.parameters()
