"""StyleGAN2 residual discriminator with minibatch-stddev (rosinality naming)."""
from __future__ import annotations

import math

import torch
from torch import nn

from .generator import channel_table, log2_res
from .ops import Blur, EqualConv2d, EqualLinear, FusedLeakyReLU


class ConvLayer(nn.Sequential):
    def __init__(self, in_ch, out_ch, kernel_size, downsample=False, blur_kernel=(1, 3, 3, 1), bias=True,
                 activate=True):
        layers = []
        if downsample:
            factor = 2
            p = (len(blur_kernel) - factor) + (kernel_size - 1)
            layers.append(Blur(blur_kernel, pad=((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        else:
            stride, padding = 1, kernel_size // 2
        layers.append(EqualConv2d(in_ch, out_ch, kernel_size, stride=stride, padding=padding,
                                  bias=bias and not activate))
        if activate:
            layers.append(FusedLeakyReLU(out_ch))
        super().__init__(*layers)


class ResBlock(nn.Module):
    def __init__(self, in_ch, out_ch, blur_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.conv1 = ConvLayer(in_ch, in_ch, 3)
        self.conv2 = ConvLayer(in_ch, out_ch, 3, downsample=True, blur_kernel=blur_kernel)
        self.skip = ConvLayer(in_ch, out_ch, 1, downsample=True, activate=False, bias=False, blur_kernel=blur_kernel)

    def forward(self, x):
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2)


class Discriminator(nn.Module):
    """Image (B, 3, R, R) in [-1, 1] -> realness logit (B, 1)."""

    def __init__(self, resolution: int = 64, channels=None, channel_multiplier: float = 2,
                 blur_kernel=(1, 3, 3, 1), stddev_group: int = 4):
        super().__init__()
        ch = channel_table(resolution, channels, channel_multiplier)
        lg = log2_res(resolution)
        convs = [ConvLayer(3, ch[resolution], 1)]
        in_ch = ch[resolution]
        for i in range(lg, 2, -1):
            out_ch = ch[2 ** (i - 1)]
            convs.append(ResBlock(in_ch, out_ch, blur_kernel))
            in_ch = out_ch
        self.convs = nn.Sequential(*convs)
        self.stddev_group, self.stddev_feat = stddev_group, 1
        self.final_conv = ConvLayer(in_ch + 1, ch[4], 3)
        self.final_linear = nn.Sequential(EqualLinear(ch[4] * 4 * 4, ch[4], activation=True), EqualLinear(ch[4], 1))

    def forward(self, x):
        out = self.convs(x)
        b, c, h, w = out.shape
        group = min(b, self.stddev_group)
        while b % group:
            group -= 1
        s = out.view(group, -1, self.stddev_feat, c // self.stddev_feat, h, w)
        s = torch.sqrt(s.var(0, unbiased=False) + 1e-8).mean([2, 3, 4], keepdim=True).squeeze(2)
        s = s.repeat(group, 1, h, w)
        out = self.final_conv(torch.cat([out, s], 1))
        return self.final_linear(out.view(b, -1))
