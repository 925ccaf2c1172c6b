package io.tagcache.autoconfigure.sample;

import org.springframework.boot.autoconfigure.AutoConfigurationPackage;
import org.springframework.context.annotation.Configuration;

/** Stands for an application's main class: its package is the application's package. */
@Configuration(proxyBeanMethods = false)
@AutoConfigurationPackage
public class SampleApplicationPackage {

}
