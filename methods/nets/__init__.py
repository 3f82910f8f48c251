"""The trained networks: what a method needs at run time (build, load, forward, parse).

``deepsc`` (image JSCC codec), ``stylegan2/`` (generator, discriminator, official loaders),
``attribute_predictor``, ``identity_embedder`` and ``arcface`` (face nets; shared blocks in
``face_nets``), ``instruction_encoder/`` (model, parser, evaluation) and ``text_vocab``. Their
trainers are in ``methods.training`` and are never imported from here; ``methods.zoo.components``
ties each network to its trainer and shipped checkpoint.
"""
