package dev.scalpel.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.scalpel.engine.api.ScalpelException;
import dev.scalpel.engine.model.arch.gpt2.Gpt2ConfigJson;
import dev.scalpel.engine.model.arch.llama.LlamaConfigJson;
import dev.scalpel.engine.testing.Fixtures;
import java.io.IOException;
import java.lang.reflect.Parameter;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every config key transformers defines for an architecture Scalpel runs is read, inert or refused — none is ignored
 * by accident. The keys come from transformers' own config classes (fixtures/models/config-keys.json, written by
 * tools/parity/config_keys.py), so a transformers upgrade that adds a computing key fails here until it is classified.
 */
class ConfigKeysTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode transformersKeys() throws IOException {
        return JSON.readTree(Fixtures.model("config-keys.json").toFile());
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void everyKeyOfTransformersConfigClassIsClassified(Architecture arch) throws IOException {
        JsonNode type = transformersKeys().path("model_types").path(arch.modelType());
        assertTrue(type.isObject(), "config-keys.json has no " + arch.modelType() + "; rerun tools/parity/config_keys.py");
        Set<String> keys = new TreeSet<>();
        type.path("to_dict").fieldNames().forEachRemaining(keys::add);
        type.path("attribute_map").fieldNames().forEachRemaining(keys::add);   // aliases a config.json may use
        Set<String> known = new HashSet<>(ConfigKeys.read(arch));
        known.addAll(ConfigKeys.inert(arch));
        known.addAll(ConfigKeys.refused());
        List<String> unclassified = keys.stream().filter(k -> !known.contains(k)).toList();
        assertEquals(List.of(), unclassified, arch.modelType() + ": transformers " + transformersKeys().path("transformers").asText()
                + " defines keys Scalpel neither reads, declares inert nor refuses");
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void everyKeyClaimedAsReadIsAFieldOfTheConfigReader(Architecture arch) {
        Set<String> fields = jsonNames(arch == Architecture.GPT2 ? Gpt2ConfigJson.class : LlamaConfigJson.class);
        fields.addAll(Set.of("model_type", "architectures"));                  // ConfigReader dispatches on these
        List<String> missing = ConfigKeys.read(arch).stream().filter(k -> !fields.contains(k)).sorted().toList();
        assertEquals(List.of(), missing, arch.modelType() + ": keys claimed as read that no config record field reads");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"use_bidirectional_attention\": true", "\"quantization_config\": {\"quant_method\": \"gptq\"}",
            "\"is_encoder_decoder\": true", "\"pruned_heads\": {\"0\": [1]}"})
    void keysThatTurnOnSomethingScalpelDoesNotRunAreRefusedByName(String entry, @TempDir Path dir) throws IOException {
        String key = entry.substring(1, entry.indexOf('"', 1));
        copyWith(Fixtures.model("gemma3-text"), dir, entry);
        var e = assertThrows(ScalpelException.class, () -> ConfigReader.read(dir));
        assertTrue(e.getMessage().contains("sets " + key), e.getMessage());
    }

    @Test
    void neutralValuesOfRefusedKeysAreAccepted(@TempDir Path dir) throws IOException {
        copyWith(Fixtures.model("gemma3-text"), dir, "\"use_bidirectional_attention\": false, \"pruned_heads\": {}");
        assertEquals(Architecture.GEMMA3_TEXT, ConfigReader.read(dir).architecture());
    }

    @Test
    void aPartialRotaryFactorOnAFamilyThatTurnsWholeHeadsIsRefused(@TempDir Path dir) throws IOException {
        copyWith(Fixtures.model("llama-gqa"), dir, "\"partial_rotary_factor\": 0.5");
        var e = assertThrows(ScalpelException.class, () -> ConfigReader.read(dir));
        assertTrue(e.getMessage().contains("partial_rotary_factor 0.5"), e.getMessage());
    }

    @Test
    void theHiddenActivationIsHonouredForEveryFamilyNotOnlyGemma(@TempDir Path dir) throws IOException {
        copyWith(Fixtures.model("llama-gqa"), dir, "\"hidden_act\": \"gelu_pytorch_tanh\"");
        assertEquals(DecoderStyle.Activation.GELU_TANH, ConfigReader.read(dir).style().activation());
    }

    @Test
    void aWeightTheConfigDoesNotDescribeIsRefusedNotIgnored(@TempDir Path dir) throws IOException {
        // llama-bias's checkpoint has o_proj and MLP biases; with attention_bias/mlp_bias false they would be ignored.
        Path src = Fixtures.model("llama-bias");
        Fixtures.copyOf("llama-bias", dir);
        ObjectNode config = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        config.put("attention_bias", false).put("mlp_bias", false);
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        var e = assertThrows(ScalpelException.class, () -> ModelLoader.load(dir, ComputeDevice.CPU));
        assertTrue(e.getMessage().contains("does not describe"), e.getMessage());
    }

    private static void copyWith(Path fixture, Path dir, String entry) throws IOException {
        String config = Files.readString(fixture.resolve("config.json")).trim();
        Files.writeString(dir.resolve("config.json"), config.substring(0, config.length() - 1) + ", " + entry + "}");
    }

    /** The JSON names (properties and aliases) of the record's canonical constructor parameters. */
    private static Set<String> jsonNames(Class<? extends Record> record) {
        Class<?>[] types = Arrays.stream(record.getRecordComponents()).map(RecordComponent::getType).toArray(Class<?>[]::new);
        Parameter[] parameters;
        try {
            parameters = record.getDeclaredConstructor(types).getParameters();
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
        Set<String> names = new HashSet<>();
        for (Parameter c : parameters) {
            JsonProperty p = c.getAnnotation(JsonProperty.class);
            if (p != null) {
                names.add(p.value());
            }
            JsonAlias a = c.getAnnotation(JsonAlias.class);
            if (a != null) {
                names.addAll(List.of(a.value()));
            }
        }
        return names;
    }
}
