"""The attribution methods and how to read each: torch-free, so the CLI's --help stays fast."""

METHODS = ("saliency", "integrated_gradients", "gradcam", "occlusion")
NOTES = {
    "saliency": "Bright where a small change of the input value changes the predicted class's score most "
                "(the gradient's size); it says where the model is sensitive, not which way.",
    "integrated_gradients": "Each input value's share of the predicted score compared with an all-zero input: "
                            "positive pushes toward the class, negative away; the shares add up to the difference.",
    "gradcam": "Bright where the chosen conv layer's features most raise the predicted class's score, "
               "upsampled from that layer's grid (coarse: one cell per feature-map position).",
    "occlusion": "How much the predicted class's score drops when a patch (a feature) is set to zero: "
                 "high means that part was needed; negative means hiding it helped the class.",
}
