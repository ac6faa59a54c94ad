/*
 * images.c - `buildprof images`: the stored images with their layers, sizes
 * and the build that produced them, as text or JSON (buildprof.images/1).
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "buildprof/report.h"
#include "cli.h"

static void print_json(const struct bp_image *img, int first)
{
	json_t *o = json_object(), *layers = json_array();
	size_t i;

	for (i = 0; i < img->nlayers; i++) {
		const struct bp_layer *l = &img->layers[i];
		json_t *lo = json_object();
		json_object_set_new(lo, "digest", report_json_string(l->digest));
		json_object_set_new(lo, "size_bytes", report_json_bytes(l->size_bytes));
		json_object_set_new(lo, "compressed_bytes", report_json_bytes(l->compressed_bytes));
		json_object_set_new(lo, "media_type", report_json_string(l->media_type));
		json_object_set_new(lo, "created_by", report_json_string(l->created_by));
		json_object_set_new(lo, "empty", json_boolean(l->empty));
		json_array_append_new(layers, lo);
	}
	json_object_set_new(o, "id", json_integer(img->id));
	json_object_set_new(o, "ref", report_json_string(img->ref));
	json_object_set_new(o, "image_id", report_json_string(img->image_id));
	json_object_set_new(o, "digest", report_json_string(img->digest));
	json_object_set_new(o, "platform", report_json_string(img->platform));
	json_object_set_new(o, "media_type", report_json_string(img->media_type));
	json_object_set_new(o, "size_bytes", report_json_bytes(img->size_bytes));
	json_object_set_new(o, "compressed_bytes", report_json_bytes(img->compressed_bytes));
	json_object_set_new(o, "base", report_json_string(img->base_image));
	json_object_set_new(o, "build", img->build_id ? json_integer(img->build_id) : json_null());
	json_object_set_new(o, "source", report_json_string(img->source_path));
	json_object_set_new(o, "layers", layers);
	fputs(first ? "\n" : ",\n", stdout);
	report_json_dump(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
}

static void print_text(const struct bp_image *img, int first)
{
	char a[32], b[32], cut[160];
	size_t i;

	if (!first)
		putchar('\n');
	printf("image %ld  %s%s%s\n", img->id, img->ref ? img->ref : "(no name)",
	       img->platform ? "  " : "", img->platform ? img->platform : "");
	if (img->image_id)
		printf("  id          %s\n", img->image_id);
	if (img->digest)
		printf("  digest      %s\n", img->digest);
	printf("  size        %s   compressed %s\n", report_bytes(img->size_bytes, a, sizeof(a)),
	       report_bytes(img->compressed_bytes, b, sizeof(b)));
	if (img->base_image)
		printf("  base        %s\n", img->base_image);
	if (img->build_id)
		printf("  built by    build %ld\n", img->build_id);
	if (img->source_path)
		printf("  source      %s\n", img->source_path);
	if (!img->nlayers)
		return;
	printf("  layers      %zu, oldest first\n    %10s  %10s  %s\n", img->nlayers, "SIZE",
	       "COMPRESSED", "MADE BY");
	for (i = 0; i < img->nlayers; i++) {
		const struct bp_layer *l = &img->layers[i];
		const char *what = l->created_by ? l->created_by : l->digest ? l->digest : "?";
		printf("    %10s  %10s  %s\n", report_bytes(l->size_bytes, a, sizeof(a)),
		       report_bytes(l->compressed_bytes, b, sizeof(b)),
		       report_ellipsize(what, 70, cut, sizeof(cut)));
	}
}

static int run_images(int argc, char **argv, const struct cli_env *env)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_image_iter *it = NULL;
	struct bp_store *st = NULL;
	struct bp_image img;
	struct bp_error err;
	int c, json = 0, r, rc = EXIT_INPUT;
	long n = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return cli_usage_error(&cli_images, "unknown format '%s' (text, json)", optarg);
			json = !strcmp(optarg, "json");
			break;
		case 'h':
			return cli_help(&cli_images);
		default:
			return cli_usage_error(&cli_images, "bad option");
		}
	}
	st = cli_open_store(env);
	if (!st)
		return EXIT_INPUT;
	bp_error_init(&err);
	it = store_select_images(st, argv + optind, (size_t)(argc - optind), &err);
	if (!it)
		goto out;
	if (json)
		fputs("{\"schema\":\"buildprof.images/1\",\"images\":[", stdout);
	while ((r = store_image_next(it, &img, &err)) == 1) {
		if (json)
			print_json(&img, !n);
		else
			print_text(&img, !n);
		n++;
		bp_image_release(&img);
	}
	if (json)
		fputs(n ? "\n]}\n" : "]}\n", stdout);
	else if (!n)
		printf("no images%s\n", argc > optind ? " match" : " stored yet");
	rc = r < 0 ? EXIT_INPUT : EXIT_OK;
out:
	if (bp_error_isset(&err))
		cli_print_error("images", &err);
	store_image_iter_free(it);
	store_close(st);
	return rc;
}

const struct cli_command cli_images = {
	.name = "images",
	.run = run_images,
	.summary = "list stored images with their layers and sizes",
	.usage =
	"usage: buildprof images [REF...] [--format text|json]\n"
	"\n"
	"Lists the stored images (all, or those whose id is REF or whose name, digest\n"
	"or image id starts with REF): name, platform, image id, manifest digest, size\n"
	"and compressed size, base image, the build that produced it, and the\n"
	"layers oldest first with their sizes and the command that made each.\n"
	"Images come from `ingest` of docker image inspect, docker history or\n"
	"registry manifests.\n"
	"\n"
	"  -f, --format F   text (default) or json (schema buildprof.images/1)\n"
	"  -h, --help       this text\n",
};
